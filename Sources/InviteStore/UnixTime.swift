/// Seconds since 1970-01-01 UTC. The store, the tokens and the API all speak whole seconds.
public typealias UnixTime = Int64
