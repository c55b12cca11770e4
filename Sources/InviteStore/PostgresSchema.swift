/// The PostgreSQL schema as versioned migrations, recorded in `schema_migrations`. A migration,
/// once released, is never edited: changes come as a new version so every database upgrades
/// along the same path.
///
/// The tables mirror ``SQLiteSchema`` column for column, with the same invariants in the schema
/// as the backstop against a bug or a race: at most one active connection per reseller and
/// provider, at most one active relationship per partner and customer, one acceptance per
/// invitation and customer, one DAP grant per partner and customer, `use_count` never above
/// `max_uses`, and an audit log whose trigger refuses UPDATE, DELETE and TRUNCATE.
///
/// Every text column is `COLLATE "C"`: byte order, as SQLite's BINARY collation, so lists and
/// keyset cursors sort the same on both backends whatever locale the cluster was created with.
enum PostgresSchema {
    struct Migration {
        let version: Int64
        let name: String
        /// Run in order, each as its own statement (the extended protocol takes one at a time).
        let statements: [String]
    }

    /// Key of the transaction-scoped advisory lock held while migrating, so that instances
    /// starting at once migrate one after the other: the first applies, the others find the
    /// versions recorded. ("invitelk" in ASCII.)
    static let migrationLockKey: Int64 = 0x696E_7669_7465_6C6B

    static let createMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version     BIGINT PRIMARY KEY,
            name        TEXT NOT NULL,
            applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """

    static let migrations: [Migration] = [
        Migration(version: 1, name: "initial schema", statements: v1),
        Migration(version: 2, name: "revoked sessions", statements: v2),
        Migration(version: 3, name: "sign-in failures per address, session versions", statements: v3),
        Migration(version: 4, name: "both sides of a relationship: disabled users, setup links", statements: v4),
        Migration(version: 5, name: "audit trail: actor kinds, scopes, checkpoints", statements: v5),
        Migration(version: 6, name: "webhooks", statements: v6),
        Migration(version: 7, name: "audit reads since a time start from the checkpoints", statements: v7),
    ]

    /// As SQLite's v8 (SQLite's v7, the links' blocks, has no counterpart here).
    private static let v7 = [
        "DROP INDEX audit_log_by_time",
        "CREATE INDEX audit_checkpoints_by_time ON audit_checkpoints (at)",
    ]

    /// As SQLite's v6.
    private static let v6 = [
        """
        CREATE TABLE webhooks (
            id                     TEXT COLLATE "C" PRIMARY KEY,
            partner_id             TEXT COLLATE "C" NOT NULL REFERENCES partners(id),
            url                    TEXT NOT NULL,
            events                 TEXT NOT NULL,
            secret                 TEXT NOT NULL,
            previous_secret        TEXT,
            previous_secret_until  BIGINT,
            created_at             BIGINT NOT NULL,
            removed_at             BIGINT
        )
        """,
        "CREATE INDEX webhooks_of_partner ON webhooks (partner_id) WHERE removed_at IS NULL",
        """
        CREATE TABLE webhook_deliveries (
            id               BIGSERIAL PRIMARY KEY,
            endpoint_id      TEXT COLLATE "C" NOT NULL REFERENCES webhooks(id),
            event_seq        BIGINT NOT NULL,
            event_type       TEXT NOT NULL,
            status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts         BIGINT NOT NULL DEFAULT 0,
            next_attempt_ms  BIGINT,
            claimed_until_ms BIGINT,
            last_status      BIGINT,
            last_error       TEXT,
            created_at       BIGINT NOT NULL,
            updated_at       BIGINT NOT NULL,
            UNIQUE (endpoint_id, event_seq)
        )
        """,
        "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_ms, id) WHERE status = 'pending'",
        "CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (id) WHERE status = 'pending'",
        "CREATE INDEX webhook_deliveries_of_endpoint ON webhook_deliveries (endpoint_id, id)",
        """
        CREATE TABLE webhook_fanout (
            id        BIGINT PRIMARY KEY CHECK (id = 1),
            last_seq  BIGINT NOT NULL
        )
        """,
        "INSERT INTO webhook_fanout (id, last_seq) SELECT 1, COALESCE(max(id), 0) FROM audit_log",
    ]

    /// As SQLite's v5, and one thing only PostgreSQL needs: an entry's `seq` is taken by a
    /// trigger after its transaction has an id (`xid`), so a seal can wait for every
    /// transaction that might still commit a lower `seq` to end (see `sealAudit`).
    private static let v5 = [
        "ALTER TABLE audit_log ADD COLUMN actor_kind TEXT COLLATE \"C\" NOT NULL DEFAULT 'unknown'",
        "ALTER TABLE audit_log ADD COLUMN partner_id TEXT COLLATE \"C\"",
        "ALTER TABLE audit_log ADD COLUMN customer_id TEXT COLLATE \"C\"",
        "ALTER TABLE audit_log ADD COLUMN xid xid8",
        "CREATE INDEX audit_log_of_partner ON audit_log (partner_id, id) WHERE partner_id IS NOT NULL",
        "CREATE INDEX audit_log_of_customer ON audit_log (customer_id, id) WHERE customer_id IS NOT NULL",
        "CREATE INDEX audit_log_by_time ON audit_log (at, id)",
        "ALTER TABLE audit_log ALTER COLUMN id DROP IDENTITY",
        "CREATE SEQUENCE audit_log_seq OWNED BY audit_log.id",
        "SELECT setval('audit_log_seq', COALESCE((SELECT max(id) FROM audit_log), 0) + 1, false)",
        """
        CREATE FUNCTION audit_log_number() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.xid := pg_current_xact_id();
            NEW.id := nextval('audit_log_seq');
            RETURN NEW;
        END
        $$
        """,
        """
        CREATE TRIGGER audit_log_number BEFORE INSERT ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_number()
        """,
        """
        CREATE TABLE audit_checkpoints (
            id             BIGSERIAL PRIMARY KEY,
            first_seq      BIGINT NOT NULL,
            last_seq       BIGINT NOT NULL UNIQUE,
            entry_count    BIGINT NOT NULL,
            previous_head  BYTEA NOT NULL,
            head           BYTEA NOT NULL,
            at             BIGINT NOT NULL,
            token          TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE audit_chain (
            seq   BIGINT PRIMARY KEY,
            link  BYTEA NOT NULL
        )
        """,
        // Pruning (`audit prune`) may delete entries up to `through_seq`, sealed and exported,
        // and nothing else: a row-level check replaces the statement-level refusal of DELETE.
        """
        CREATE TABLE audit_pruned (
            id           BIGINT PRIMARY KEY CHECK (id = 1),
            through_seq  BIGINT NOT NULL
        )
        """,
        "INSERT INTO audit_pruned (id, through_seq) VALUES (1, 0)",
        "DROP TRIGGER audit_log_no_change ON audit_log",
        """
        CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
        """,
        """
        CREATE FUNCTION audit_log_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.id > (SELECT through_seq FROM audit_pruned WHERE id = 1) THEN
                RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN OLD;
        END
        $$
        """,
        """
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_delete()
        """,
    ]

    /// As SQLite's v4: disabled users, one-time setup links, and the indexes a customer's
    /// partner list, a partner's retained grants, a tenant's people and a domain check use.
    private static let v4 = [
        "ALTER TABLE users ADD COLUMN disabled_at BIGINT",
        """
        CREATE TABLE setup_links (
            id          TEXT COLLATE "C" PRIMARY KEY,
            user_id     TEXT COLLATE "C" NOT NULL REFERENCES users(id),
            issued_at   BIGINT NOT NULL,
            expires_at  BIGINT NOT NULL,
            used_at     BIGINT
        )
        """,
        "CREATE INDEX setup_links_unused ON setup_links (user_id) WHERE used_at IS NULL",
        "CREATE INDEX relationships_by_customer ON relationships (customer_id, partner_id) WHERE removed_at IS NULL",
        "CREATE INDEX dap_grants_by_customer ON dap_grants (customer_id, partner_id)",
        "CREATE INDEX customers_by_domain ON customers (domain)",
        "CREATE INDEX users_of_partner ON users (partner_id, email) WHERE partner_id IS NOT NULL",
        "CREATE INDEX users_of_customer ON users (customer_id, email) WHERE customer_id IS NOT NULL",
    ]

    /// Sign-in failures counted per email address (known or not) instead of per user, a
    /// session version per user (the users' old counters stay, unused), and an index that
    /// reads an invitation's acceptances in order, a page at a time.
    private static let v3 = [
        """
        CREATE TABLE sign_in_failures (
            email_digest  BYTEA PRIMARY KEY,
            failures      BIGINT NOT NULL,
            window_start  BIGINT NOT NULL,
            locked_until  BIGINT
        )
        """,
        "CREATE INDEX sign_in_failures_by_window ON sign_in_failures (window_start)",
        "ALTER TABLE users ADD COLUMN session_version BIGINT NOT NULL DEFAULT 0",
        "CREATE INDEX acceptances_in_order ON acceptances (invitation_id, accepted_at, seq)",
    ]

    /// Signed-out portal sessions, shared by every instance (the cookie key may be shared too).
    private static let v2 = [
        """
        CREATE TABLE revoked_sessions (
            digest      BYTEA PRIMARY KEY,
            expires_at  BIGINT NOT NULL
        )
        """,
        "CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (expires_at)",
    ]

    private static let v1 = [
        """
        CREATE TABLE partners (
            id          TEXT COLLATE "C" PRIMARY KEY,
            name        TEXT COLLATE "C" NOT NULL,
            kind        TEXT COLLATE "C" NOT NULL CHECK (kind IN ('reseller', 'provider')),
            created_at  BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE provider_connections (
            id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            reseller_id      TEXT COLLATE "C" NOT NULL REFERENCES partners(id),
            provider_id      TEXT COLLATE "C" NOT NULL REFERENCES partners(id),
            connected_at     BIGINT NOT NULL,
            disconnected_at  BIGINT,
            CHECK (reseller_id <> provider_id)
        )
        """,
        """
        CREATE UNIQUE INDEX provider_connections_active
            ON provider_connections (reseller_id, provider_id) WHERE disconnected_at IS NULL
        """,
        """
        CREATE TABLE customers (
            id          TEXT COLLATE "C" PRIMARY KEY,
            name        TEXT COLLATE "C" NOT NULL,
            domain      TEXT COLLATE "C" NOT NULL,
            created_at  BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE users (
            id                    TEXT COLLATE "C" PRIMARY KEY,
            partner_id            TEXT COLLATE "C" REFERENCES partners(id),
            customer_id           TEXT COLLATE "C" REFERENCES customers(id),
            email                 TEXT COLLATE "C" NOT NULL UNIQUE,
            role                  TEXT COLLATE "C" NOT NULL,
            password_hash         TEXT COLLATE "C" NOT NULL,
            must_change_password  BOOLEAN NOT NULL,
            failed_sign_ins       BIGINT NOT NULL DEFAULT 0,
            locked_until          BIGINT,
            created_at            BIGINT NOT NULL,
            CHECK ((partner_id IS NULL) <> (customer_id IS NULL))
        )
        """,
        """
        CREATE TABLE credentials (
            id           TEXT COLLATE "C" PRIMARY KEY,
            partner_id   TEXT COLLATE "C" REFERENCES partners(id),
            customer_id  TEXT COLLATE "C" REFERENCES customers(id),
            role         TEXT COLLATE "C" NOT NULL,
            secret_hash  BYTEA NOT NULL UNIQUE,
            created_at   BIGINT NOT NULL,
            revoked_at   BIGINT,
            CHECK ((partner_id IS NULL) <> (customer_id IS NULL))
        )
        """,
        """
        CREATE TABLE invitations (
            id              TEXT COLLATE "C" PRIMARY KEY,
            reseller_id     TEXT COLLATE "C" NOT NULL, -- no foreign key: acceptance checks the reseller exists
            provider_id     TEXT COLLATE "C" REFERENCES partners(id),
            dap             BOOLEAN NOT NULL,
            kid             TEXT COLLATE "C" NOT NULL,
            issued_at       BIGINT NOT NULL,
            expires_at      BIGINT NOT NULL,
            max_uses        BIGINT CHECK (max_uses IS NULL OR max_uses > 0),
            use_count       BIGINT NOT NULL DEFAULT 0,
            issued_by       TEXT COLLATE "C" NOT NULL,
            customer_email  TEXT COLLATE "C",
            revoked_at      BIGINT,
            CHECK (use_count >= 0 AND (max_uses IS NULL OR use_count <= max_uses))
        )
        """,
        "CREATE INDEX invitations_by_reseller ON invitations (reseller_id, issued_at, id)",
        // `seq` orders an invitation's acceptances as SQLite's rowid does.
        """
        CREATE TABLE acceptances (
            invitation_id  TEXT COLLATE "C" NOT NULL REFERENCES invitations(id),
            customer_id    TEXT COLLATE "C" NOT NULL REFERENCES customers(id),
            accepted_by    TEXT COLLATE "C" NOT NULL,
            accepted_at    BIGINT NOT NULL,
            result         TEXT COLLATE "C" NOT NULL,
            seq            BIGINT GENERATED ALWAYS AS IDENTITY,
            PRIMARY KEY (invitation_id, customer_id)
        )
        """,
        """
        CREATE TABLE relationships (
            id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            partner_id     TEXT COLLATE "C" NOT NULL REFERENCES partners(id),
            customer_id    TEXT COLLATE "C" NOT NULL REFERENCES customers(id),
            role           TEXT COLLATE "C" NOT NULL CHECK (role IN ('reseller', 'provider')),
            invitation_id  TEXT COLLATE "C" REFERENCES invitations(id),
            created_at     BIGINT NOT NULL,
            removed_at     BIGINT
        )
        """,
        """
        CREATE UNIQUE INDEX relationships_active
            ON relationships (partner_id, customer_id) WHERE removed_at IS NULL
        """,
        """
        CREATE INDEX relationships_by_partner
            ON relationships (partner_id, created_at, id) WHERE removed_at IS NULL
        """,
        """
        CREATE TABLE dap_grants (
            partner_id     TEXT COLLATE "C" NOT NULL REFERENCES partners(id),
            customer_id    TEXT COLLATE "C" NOT NULL REFERENCES customers(id),
            granted_at     BIGINT NOT NULL,
            invitation_id  TEXT COLLATE "C" REFERENCES invitations(id),
            PRIMARY KEY (partner_id, customer_id)
        )
        """,
        """
        CREATE TABLE audit_log (
            id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at       BIGINT NOT NULL,
            actor    TEXT COLLATE "C" NOT NULL,
            action   TEXT COLLATE "C" NOT NULL,
            subject  TEXT COLLATE "C" NOT NULL,
            detail   TEXT COLLATE "C" NOT NULL DEFAULT ''
        )
        """,
        """
        CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'restrict_violation';
        END
        $$
        """,
        // Statement-level, so that even a DELETE or UPDATE that matches no row is refused.
        """
        CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
        """,
    ]
}
