internal import GRDB

/// The SQLite schema as versioned migrations. A migration, once released, is never edited:
/// changes come as a new one ("v2", …) so every database upgrades along the same path.
///
/// Invariants live in the schema as well as in the code, as the backstop against a bug or a
/// race: at most one active connection per reseller and provider, at most one active
/// relationship per partner and customer, one acceptance per invitation and customer, one DAP
/// grant per partner and customer, `use_count` never above `max_uses`, and an audit log that
/// refuses UPDATE and DELETE.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: v2)
        }
        migrator.registerMigration("v3") { db in
            try db.execute(sql: v3)
        }
        migrator.registerMigration("v4") { db in
            try db.execute(sql: v4)
        }
        migrator.registerMigration("v5") { db in
            try db.execute(sql: v5)
        }
        migrator.registerMigration("v6") { db in
            try db.execute(sql: v6)
        }
        migrator.registerMigration("v7") { db in
            try db.execute(sql: v7)
        }
        migrator.registerMigration("v8") { db in
            try db.execute(sql: v8)
        }
        return migrator
    }

    private static let v1 = """
        CREATE TABLE partners (
            id          TEXT PRIMARY KEY NOT NULL,
            name        TEXT NOT NULL,
            kind        TEXT NOT NULL CHECK (kind IN ('reseller', 'provider')),
            created_at  INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE provider_connections (
            id               INTEGER PRIMARY KEY,
            reseller_id      TEXT NOT NULL REFERENCES partners(id),
            provider_id      TEXT NOT NULL REFERENCES partners(id),
            connected_at     INTEGER NOT NULL,
            disconnected_at  INTEGER,
            CHECK (reseller_id <> provider_id)
        ) STRICT;
        CREATE UNIQUE INDEX provider_connections_active
            ON provider_connections (reseller_id, provider_id) WHERE disconnected_at IS NULL;

        CREATE TABLE customers (
            id          TEXT PRIMARY KEY NOT NULL,
            name        TEXT NOT NULL,
            domain      TEXT NOT NULL,
            created_at  INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE users (
            id                    TEXT PRIMARY KEY NOT NULL,
            partner_id            TEXT REFERENCES partners(id),
            customer_id           TEXT REFERENCES customers(id),
            email                 TEXT NOT NULL UNIQUE,
            role                  TEXT NOT NULL,
            password_hash         TEXT NOT NULL,
            must_change_password  INTEGER NOT NULL CHECK (must_change_password IN (0, 1)),
            failed_sign_ins       INTEGER NOT NULL DEFAULT 0,
            locked_until          INTEGER,
            created_at            INTEGER NOT NULL,
            CHECK ((partner_id IS NULL) <> (customer_id IS NULL))
        ) STRICT;

        CREATE TABLE credentials (
            id           TEXT PRIMARY KEY NOT NULL,
            partner_id   TEXT REFERENCES partners(id),
            customer_id  TEXT REFERENCES customers(id),
            role         TEXT NOT NULL,
            secret_hash  BLOB NOT NULL UNIQUE,
            created_at   INTEGER NOT NULL,
            revoked_at   INTEGER,
            CHECK ((partner_id IS NULL) <> (customer_id IS NULL))
        ) STRICT;

        CREATE TABLE invitations (
            id              TEXT PRIMARY KEY NOT NULL,
            reseller_id     TEXT NOT NULL, -- no foreign key: acceptance checks the reseller exists
            provider_id     TEXT REFERENCES partners(id),
            dap             INTEGER NOT NULL CHECK (dap IN (0, 1)),
            kid             TEXT NOT NULL,
            issued_at       INTEGER NOT NULL,
            expires_at      INTEGER NOT NULL,
            max_uses        INTEGER CHECK (max_uses IS NULL OR max_uses > 0),
            use_count       INTEGER NOT NULL DEFAULT 0,
            issued_by       TEXT NOT NULL,
            customer_email  TEXT,
            revoked_at      INTEGER,
            CHECK (use_count >= 0 AND (max_uses IS NULL OR use_count <= max_uses))
        ) STRICT;
        CREATE INDEX invitations_by_reseller ON invitations (reseller_id, issued_at, id);

        CREATE TABLE acceptances (
            invitation_id  TEXT NOT NULL REFERENCES invitations(id),
            customer_id    TEXT NOT NULL REFERENCES customers(id),
            accepted_by    TEXT NOT NULL,
            accepted_at    INTEGER NOT NULL,
            result         TEXT NOT NULL,
            PRIMARY KEY (invitation_id, customer_id)
        ) STRICT;

        CREATE TABLE relationships (
            id             INTEGER PRIMARY KEY,
            partner_id     TEXT NOT NULL REFERENCES partners(id),
            customer_id    TEXT NOT NULL REFERENCES customers(id),
            role           TEXT NOT NULL CHECK (role IN ('reseller', 'provider')),
            invitation_id  TEXT REFERENCES invitations(id),
            created_at     INTEGER NOT NULL,
            removed_at     INTEGER
        ) STRICT;
        CREATE UNIQUE INDEX relationships_active
            ON relationships (partner_id, customer_id) WHERE removed_at IS NULL;
        CREATE INDEX relationships_by_partner
            ON relationships (partner_id, created_at, id) WHERE removed_at IS NULL;

        CREATE TABLE dap_grants (
            partner_id     TEXT NOT NULL REFERENCES partners(id),
            customer_id    TEXT NOT NULL REFERENCES customers(id),
            granted_at     INTEGER NOT NULL,
            invitation_id  TEXT REFERENCES invitations(id),
            PRIMARY KEY (partner_id, customer_id)
        ) STRICT;

        CREATE TABLE audit_log (
            id       INTEGER PRIMARY KEY AUTOINCREMENT,
            at       INTEGER NOT NULL,
            actor    TEXT NOT NULL,
            action   TEXT NOT NULL,
            subject  TEXT NOT NULL,
            detail   TEXT NOT NULL DEFAULT ''
        ) STRICT;
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit_log is append-only');
        END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit_log is append-only');
        END;
        """

    /// Signed-out portal sessions, shared by every instance (the cookie key may be shared too).
    private static let v2 = """
        CREATE TABLE revoked_sessions (
            digest      BLOB PRIMARY KEY NOT NULL,
            expires_at  INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (expires_at);
        """

    /// Sign-in failures counted per email address (known or not) instead of per user, a
    /// session version per user (the users' old counters stay, unused), and an index that
    /// reads an invitation's acceptances in order, a page at a time.
    private static let v3 = """
        CREATE TABLE sign_in_failures (
            email_digest  BLOB PRIMARY KEY NOT NULL,
            failures      INTEGER NOT NULL,
            window_start  INTEGER NOT NULL,
            locked_until  INTEGER
        ) STRICT;
        CREATE INDEX sign_in_failures_by_window ON sign_in_failures (window_start);
        ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX acceptances_in_order ON acceptances (invitation_id, accepted_at);
        """

    /// Both sides of a relationship (DESIGN.md §7): disabled users, one-time setup links, and
    /// the indexes a customer's partner list, a partner's retained grants, a tenant's people
    /// and a domain check read through. Domains are not made unique by an index (a database
    /// from before may hold duplicates): "Add a new customer" checks inside its transaction.
    private static let v4 = """
        ALTER TABLE users ADD COLUMN disabled_at INTEGER;
        CREATE TABLE setup_links (
            id          TEXT PRIMARY KEY NOT NULL,
            user_id     TEXT NOT NULL REFERENCES users(id),
            issued_at   INTEGER NOT NULL,
            expires_at  INTEGER NOT NULL,
            used_at     INTEGER
        ) STRICT;
        CREATE INDEX setup_links_unused ON setup_links (user_id) WHERE used_at IS NULL;
        CREATE INDEX relationships_by_customer ON relationships (customer_id, partner_id) WHERE removed_at IS NULL;
        CREATE INDEX dap_grants_by_customer ON dap_grants (customer_id, partner_id);
        CREATE INDEX customers_by_domain ON customers (domain);
        CREATE INDEX users_of_partner ON users (partner_id, email) WHERE partner_id IS NOT NULL;
        CREATE INDEX users_of_customer ON users (customer_id, email) WHERE customer_id IS NOT NULL;
        """

    /// The audit trail of DESIGN.md §8: each entry's actor kind and the partner and customer it
    /// concerns (what `GET /v1/audit` scopes by), and the hash chain's checkpoints with each
    /// sealed entry's link. Entries written before keep `unknown` as their actor kind.
    private static let v5 = """
        ALTER TABLE audit_log ADD COLUMN actor_kind TEXT NOT NULL DEFAULT 'unknown';
        ALTER TABLE audit_log ADD COLUMN partner_id TEXT;
        ALTER TABLE audit_log ADD COLUMN customer_id TEXT;
        CREATE INDEX audit_log_of_partner ON audit_log (partner_id, id) WHERE partner_id IS NOT NULL;
        CREATE INDEX audit_log_of_customer ON audit_log (customer_id, id) WHERE customer_id IS NOT NULL;
        CREATE INDEX audit_log_by_time ON audit_log (at, id);
        CREATE TABLE audit_checkpoints (
            id             INTEGER PRIMARY KEY,
            first_seq      INTEGER NOT NULL,
            last_seq       INTEGER NOT NULL UNIQUE,
            entry_count    INTEGER NOT NULL,
            previous_head  BLOB NOT NULL,
            head           BLOB NOT NULL,
            at             INTEGER NOT NULL,
            token          TEXT NOT NULL
        ) STRICT;
        CREATE TABLE audit_chain (
            seq   INTEGER PRIMARY KEY NOT NULL,
            link  BLOB NOT NULL
        ) STRICT;
        CREATE TABLE audit_pruned (
            id           INTEGER PRIMARY KEY CHECK (id = 1),
            through_seq  INTEGER NOT NULL
        ) STRICT;
        INSERT INTO audit_pruned (id, through_seq) VALUES (1, 0);
        DROP TRIGGER audit_log_no_delete;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        WHEN OLD.id > (SELECT through_seq FROM audit_pruned WHERE id = 1)
        BEGIN
            SELECT RAISE(ABORT, 'audit_log is append-only');
        END;
        """

    /// Webhooks (DESIGN.md §9): endpoints, and one delivery row per event and endpoint. The
    /// events themselves are audit entries (written in each change's own transaction); a
    /// fan-out turns them into deliveries from the cursor in `webhook_fanout`. Attempt times
    /// are in milliseconds: a retry "after 1 s" must not come after half of one.
    private static let v6 = """
        CREATE TABLE webhooks (
            id                     TEXT PRIMARY KEY NOT NULL,
            partner_id             TEXT NOT NULL REFERENCES partners(id),
            url                    TEXT NOT NULL,
            events                 TEXT NOT NULL,
            secret                 TEXT NOT NULL,
            previous_secret        TEXT,
            previous_secret_until  INTEGER,
            created_at             INTEGER NOT NULL,
            removed_at             INTEGER
        ) STRICT;
        CREATE INDEX webhooks_of_partner ON webhooks (partner_id) WHERE removed_at IS NULL;
        CREATE TABLE webhook_deliveries (
            id               INTEGER PRIMARY KEY,
            endpoint_id      TEXT NOT NULL REFERENCES webhooks(id),
            event_seq        INTEGER NOT NULL,
            event_type       TEXT NOT NULL,
            status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts         INTEGER NOT NULL DEFAULT 0,
            next_attempt_ms  INTEGER,
            claimed_until_ms INTEGER,
            last_status      INTEGER,
            last_error       TEXT,
            created_at       INTEGER NOT NULL,
            updated_at       INTEGER NOT NULL,
            UNIQUE (endpoint_id, event_seq)
        ) STRICT;
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_ms, id) WHERE status = 'pending';
        CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (id) WHERE status = 'pending';
        CREATE INDEX webhook_deliveries_of_endpoint ON webhook_deliveries (endpoint_id, id);
        CREATE TABLE webhook_fanout (
            id        INTEGER PRIMARY KEY CHECK (id = 1),
            last_seq  INTEGER NOT NULL
        ) STRICT;
        INSERT INTO webhook_fanout (id, last_seq) SELECT 1, COALESCE(max(id), 0) FROM audit_log;
        """

    /// The links a seal records, one row per checkpoint instead of one per entry: a seal of
    /// 2,000 entries is one insert, not 2,000 beside the acceptances on the one writer
    /// (``AuditChainBlock`` is the layout). Links sealed before stay in `audit_chain`.
    private static let v7 = """
        CREATE TABLE audit_chain_blocks (
            last_seq   INTEGER PRIMARY KEY NOT NULL,
            first_seq  INTEGER NOT NULL,
            links      BLOB NOT NULL
        ) STRICT;
        """

    /// Reads `--since` start after the checkpoints sealed before the time
    /// (``AuditSQL/sealedBefore(_:)``), found by their time; the log's own index by time goes.
    /// The query planner never chose it (a page is read in `seq` order, which the primary key
    /// gives), and every entry paid for it on the writer.
    private static let v8 = """
        DROP INDEX audit_log_by_time;
        CREATE INDEX audit_checkpoints_by_time ON audit_checkpoints (at);
        """
}
