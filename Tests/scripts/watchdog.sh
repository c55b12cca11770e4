# Sourced by the test scripts: `start_watchdog SECONDS` ends the calling script after SECONDS
# (TERM to its children, then to the script, whose EXIT trap cleans up), so that nothing here
# can hang a build. Sets WATCHDOG to the watchdog's pid: kill it in the cleanup.
#
# The sleeper's output goes nowhere, so that a caller reading the script's output through a
# pipe is not kept waiting by it.
start_watchdog() {
    local limit=$1 script=${SCRIPT:-$(basename "$0")}
    (
        trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
        sleep "$limit" </dev/null >/dev/null 2>&1 &
        sleeper=$!
        wait "$sleeper"
        echo "$script: FAIL: still running after ${limit}s" >&2
        # End the script's own children first (by parent id), so none outlives it holding a
        # pipe; this watchdog is one of them and ignores the signal.
        trap '' TERM
        pkill -TERM -P $$ 2>/dev/null || true
        kill -TERM $$
    ) &
    WATCHDOG=$!
}
