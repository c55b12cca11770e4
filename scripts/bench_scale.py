#!/usr/bin/env python3
"""Flat at scale (issue 17, item 5): a generator for a large database, and the benchmark against it.

Usage: scripts/bench_scale.py [--binary .build-release/release/invitelink] [--bare .build-release/release/invitelink-bare]
                              [--database sqlite|postgres] [--postgres URL] [--seconds 5]
                              [--invitations 1000000] [--relationships 1000000] [--customers 100000] [--partners 10000]
                              [--json build/bench-scale.json]

Runs scripts/bench_http.py twice with the same settings, issuance and both acceptance runs only
(its anchors included): once on an empty database, once on a database this module fills first
with --invitations invitations, --relationships active relationships, --customers customers and
--partners partners (the bench reseller `r1` among them, holding one relationship and one DAP
grant with every generated customer and a tenth of the invitations), then prints the large/empty
ratio of each rate (target >= 0.9x), and from the large run the p50/p99 of `GET /v1/customers`
and `GET /v1/invitations` for r1: the first page and a deep page (the cursor of the row 90 % of
the way down, built as the service builds it; wrk -c4, a latency figure: with 32 connections
Little's law alone puts the mean above 10 ms below 3,200 pages/s), and the query plan of each list query
(EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL) so index use shows (target: every
page p99 < 10 ms).

The rows go in through SQL directly (sqlite3 executemany; psql \\copy on PostgreSQL), in the
shape of the schema's migrations v1–v6 (Sources/InviteStore/SQLiteSchema.swift,
PostgresSchema.swift), after the CLI created the schema, the keys and r1/p1.
"""
import argparse
import base64
import json
import os
import random
import secrets
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# The list queries as the stores run them (copied from SQLiteStore+Relationships.swift,
# SQLiteStore+Invitations.swift, PostgresStore+Relationships.swift, PostgresStore+Invitations.swift
# and PostgresStore+Queries.swift); only used for their plans here. On SQLite the plan is asked
# with bound parameters, as the service binds them: with literals in their place SQLite can
# derive a range from the cursor's OR that it cannot derive from parameters.
SQLITE_CUSTOMERS = """
SELECT r.id AS relationship_id, r.role, r.created_at AS since, d.granted_at, c.id, c.name, c.domain, c.created_at
FROM relationships r
JOIN customers c ON c.id = r.customer_id
LEFT JOIN dap_grants d ON d.partner_id = r.partner_id AND d.customer_id = r.customer_id
WHERE r.partner_id = ? AND r.removed_at IS NULL{after}
ORDER BY r.created_at, r.id LIMIT ?"""
SQLITE_CUSTOMERS_AFTER = " AND (r.created_at > ? OR (r.created_at = ? AND r.id > ?))"
SQLITE_INVITATIONS = """
SELECT *, (SELECT json_group_array(result) FROM (
               SELECT result FROM acceptances a WHERE a.invitation_id = invitations.id
               ORDER BY accepted_at, rowid LIMIT 10)) AS preview
FROM invitations WHERE reseller_id = ?{after}
ORDER BY issued_at DESC, id DESC LIMIT ?"""
SQLITE_INVITATIONS_AFTER = " AND (issued_at < ? OR (issued_at = ? AND id < ?))"
PG_CUSTOMERS = """
SELECT r.id, r.role, r.created_at, d.granted_at, c.id, c.name, c.domain, c.created_at
FROM relationships r
JOIN customers c ON c.id = r.customer_id
LEFT JOIN dap_grants d ON d.partner_id = r.partner_id AND d.customer_id = r.customer_id
WHERE r.partner_id = 'r1' AND r.removed_at IS NULL
  AND ({first} OR (r.created_at, r.id) > ({time}, {key}))
ORDER BY r.created_at, r.id LIMIT 51"""
PG_INVITATIONS = """
SELECT i.id, i.reseller_id, i.provider_id, i.dap, i.kid, i.issued_at, i.expires_at, i.max_uses, i.issued_by,
       i.customer_email, i.revoked_at, (SELECT count(*) FROM acceptances a WHERE a.invitation_id = i.id),
       ARRAY(SELECT a.result FROM acceptances a WHERE a.invitation_id = i.id ORDER BY a.accepted_at, a.seq LIMIT 10)
FROM invitations i
WHERE i.reseller_id = 'r1'
  AND ({first} OR (i.issued_at, i.id) < ({time}, '{key}'))
ORDER BY i.issued_at DESC, i.id DESC LIMIT 51"""


def cursor(list_name, time_value, key):
    """A page cursor as PageCursor.encoded makes it: base64url("<list>:<time>:<key>"), unpadded."""
    return base64.urlsafe_b64encode(f"{list_name}:{time_value}:{key}".encode()).decode().rstrip("=")


def populate(database, postgres, schema, work, invitations, relationships, customers, partners, log=sys.stderr):
    """Fills a database the CLI made (schema, keys, partners r1 and p1) with generated rows.
    `database` is the SQLite file, or None with `postgres` (URL) and `schema` for PostgreSQL."""
    started = time.time()
    now = int(time.time())
    rng = random.Random(17)
    others = partners - 2  # r1 and p1 exist already
    partner_rows = [(f"gp-{n}", f"Generated partner {n}", "reseller" if n % 2 == 0 else "provider", now - 400 * 86400)
                    for n in range(others)]
    customer_rows = [(f"gc-{n}", f"Generated customer {n}", f"gc-{n}.example", now - 400 * 86400 + n) for n in range(customers)]

    def relationship_rows():
        # r1 first: one with every customer, created in customer order (what its list pages through).
        for n in range(min(customers, relationships)):
            yield ("r1", f"gc-{n}", "reseller", now - 200 * 86400 + n)
        # The rest spread over the other partners, each (partner, customer) pair once.
        left = relationships - min(customers, relationships)
        per_customer = -(-left // customers)
        if per_customer > others:
            raise SystemExit(f"{relationships} relationships need more than {others} partners per customer")
        made = 0
        for j in range(per_customer):
            for n in range(customers):
                if made == left:
                    return
                p = (n * per_customer + j) % others
                yield (f"gp-{p}", f"gc-{n}", "reseller" if p % 2 == 0 else "provider", now - 300 * 86400 + made)
                made += 1

    def invitation_rows():
        resellers = [f"gp-{n}" for n in range(0, others, 2)]
        for n in range(invitations):
            reseller = "r1" if n % 10 == 0 else resellers[n % len(resellers)]
            issued = now - 365 * 86400 + rng.randrange(365 * 86400)
            yield (secrets.token_urlsafe(16), reseller, None, 1, "bench-kid", issued, issued + 30 * 86400, None, 0,
                   f"cred_gen-{reseller}", None, None)

    dap_rows = [("r1", f"gc-{n}", now - 200 * 86400 + n) for n in range(customers)]

    if database:
        db = sqlite3.connect(database)
        # A bulk load: a rollback journal in memory and no syncs (the service switches to WAL
        # again when it opens the file; so does the end of this function).
        db.execute("PRAGMA journal_mode=MEMORY")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-262144")
        with db:
            db.executemany("INSERT INTO partners (id, name, kind, created_at) VALUES (?, ?, ?, ?)", partner_rows)
            db.executemany("INSERT INTO customers (id, name, domain, created_at) VALUES (?, ?, ?, ?)", customer_rows)
            db.executemany("INSERT INTO relationships (partner_id, customer_id, role, created_at) VALUES (?, ?, ?, ?)", relationship_rows())
            db.executemany("INSERT INTO invitations (id, reseller_id, provider_id, dap, kid, issued_at, expires_at, max_uses, use_count, "
                           "issued_by, customer_email, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", invitation_rows())
            db.executemany("INSERT INTO dap_grants (partner_id, customer_id, granted_at) VALUES (?, ?, ?)", dap_rows)
        # No ANALYZE: the service never runs it, so the plans are those of a database without statistics.
        db.execute("PRAGMA journal_mode=WAL")
        db.close()
    else:
        def csv(name, rows):
            path = os.path.join(work, name + ".csv")
            with open(path, "w") as f:
                for row in rows:
                    f.write(",".join("" if v is None else ("t" if v is True else str(v)) for v in row) + "\n")
            return path
        files = {
            "partners (id, name, kind, created_at)": csv("g_partners", partner_rows),
            "customers (id, name, domain, created_at)": csv("g_customers", customer_rows),
            "relationships (partner_id, customer_id, role, created_at)": csv("g_relationships", relationship_rows()),
            "invitations (id, reseller_id, provider_id, dap, kid, issued_at, expires_at, max_uses, use_count, issued_by, customer_email, revoked_at)":
                csv("g_invitations", ((*r[:3], "t", *r[4:]) for r in invitation_rows())),
            "dap_grants (partner_id, customer_id, granted_at)": csv("g_dap", dap_rows),
        }
        command = ["psql", "-q", "-v", "ON_ERROR_STOP=1", postgres, "-c", f"SET search_path={schema}"]
        for table, path in files.items():
            command += ["-c", f"\\copy {table} FROM '{path}' CSV"]
        subprocess.run(command, check=True)
        subprocess.run(["psql", "-q", postgres, "-c", f"SET search_path={schema}", "-c", "VACUUM ANALYZE"], check=True)
        for path in files.values():
            os.remove(path)
    print(f"generated {partners:,} partners, {customers:,} customers, {relationships:,} relationships, {invitations:,} invitations "
          f"in {time.time() - started:.0f} s", file=log)


def deep_cursors(database, postgres, schema, fraction=0.9):
    """The cursors of the row `fraction` of the way down r1's customers and invitations lists."""
    if database:
        db = sqlite3.connect(database)
        n = db.execute("SELECT count(*) FROM relationships WHERE partner_id = 'r1' AND removed_at IS NULL").fetchone()[0]
        t, k = db.execute("SELECT created_at, id FROM relationships WHERE partner_id = 'r1' AND removed_at IS NULL "
                          "ORDER BY created_at, id LIMIT 1 OFFSET ?", (int(n * fraction),)).fetchone()
        m = db.execute("SELECT count(*) FROM invitations WHERE reseller_id = 'r1'").fetchone()[0]
        it, ik = db.execute("SELECT issued_at, id FROM invitations WHERE reseller_id = 'r1' ORDER BY issued_at DESC, id DESC "
                            "LIMIT 1 OFFSET ?", (int(m * fraction),)).fetchone()
        db.close()
    else:
        def q(sql):
            return subprocess.run(["psql", "-tA", "-F", "|", postgres, "-c", f"SET search_path={schema}", "-c", sql],
                                  check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1].split("|")
        n = int(q("SELECT count(*) FROM relationships WHERE partner_id = 'r1' AND removed_at IS NULL")[0])
        t, k = q(f"SELECT created_at, id FROM relationships WHERE partner_id = 'r1' AND removed_at IS NULL "
                 f"ORDER BY created_at, id LIMIT 1 OFFSET {int(n * fraction)}")
        m = int(q("SELECT count(*) FROM invitations WHERE reseller_id = 'r1'")[0])
        it, ik = q(f"SELECT issued_at, id FROM invitations WHERE reseller_id = 'r1' ORDER BY issued_at DESC, id DESC "
                   f"LIMIT 1 OFFSET {int(m * fraction)}")
    return {"customers": (cursor("c1", t, k), int(n * fraction), n, int(t), int(k)),
            "invitations": (cursor("i1", it, ik), int(m * fraction), m, int(it), ik)}


def plans(database, postgres, schema, cursors):
    """The plan of each list query, first page and deep page."""
    _, _, _, ct, ck = cursors["customers"]
    _, _, _, it, ik = cursors["invitations"]
    out = {}
    if database:
        queries = {
            "customers, first page": (SQLITE_CUSTOMERS.format(after=""), ["r1", 51]),
            "customers, deep page": (SQLITE_CUSTOMERS.format(after=SQLITE_CUSTOMERS_AFTER), ["r1", ct, ct, ck, 51]),
            "invitations, first page": (SQLITE_INVITATIONS.format(after=""), ["r1", 51]),
            "invitations, deep page": (SQLITE_INVITATIONS.format(after=SQLITE_INVITATIONS_AFTER), ["r1", it, it, ik, 51]),
        }
        db = sqlite3.connect(database)
        for name, (sql, arguments) in queries.items():
            out[name] = ["|".join(str(c) for c in row[3:]) for row in db.execute("EXPLAIN QUERY PLAN " + sql, arguments)]
            started = time.perf_counter()
            for _ in range(10):
                db.execute(sql, arguments).fetchall()
            out[name].append(f"(sqlite3 {sqlite3.sqlite_version} from Python, same parameters: {(time.perf_counter() - started) / 10 * 1000:.2f} ms a query)")
        db.close()
    else:
        queries = {
            "customers, first page": PG_CUSTOMERS.format(first="true", time=0, key=0),
            "customers, deep page": PG_CUSTOMERS.format(first="false", time=ct, key=ck),
            "invitations, first page": PG_INVITATIONS.format(first="true", time=0, key=""),
            "invitations, deep page": PG_INVITATIONS.format(first="false", time=it, key=ik),
        }
        for name, sql in queries.items():
            text = subprocess.run(["psql", "-tA", postgres, "-c", f"SET search_path={schema}", "-c", "EXPLAIN (ANALYZE, COSTS OFF) " + sql],
                                  check=True, capture_output=True, text=True).stdout
            out[name] = [line for line in text.splitlines() if line.strip() and line.strip() != "SET"]
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build-release/release/invitelink")
    parser.add_argument("--bare", default=".build-release/release/invitelink-bare")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres", default=os.environ.get("INVITELINK_TEST_POSTGRES_URL"))
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--invitations", type=int, default=1_000_000)
    parser.add_argument("--relationships", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--json", default="build/bench-scale.json")
    options = parser.parse_args()
    os.makedirs("build", exist_ok=True)
    common = [sys.executable, os.path.join(HERE, "bench_http.py"), "--binary", options.binary, "--bare", options.bare,
              "--seconds", str(options.seconds), "--database", options.database, "--only", "POST /v1/", "--customers", "60000"]
    if options.postgres:
        common += ["--postgres", options.postgres]
    empty_json, large_json = f"build/bench-scale-{options.database}-empty.json", f"build/bench-scale-{options.database}-large.json"
    print("== empty database ==", flush=True)
    subprocess.run(common + ["--json", empty_json], check=True)
    print("== large database ==", flush=True)
    subprocess.run(common + ["--json", large_json, "--populate",
                             f"{options.invitations},{options.relationships},{options.customers},{options.partners}", "--lists"], check=True)
    with open(empty_json) as f:
        empty = json.load(f)
    with open(large_json) as f:
        large = json.load(f)
    print()
    print(f"flat at scale ({options.database}; large = {options.invitations:,} invitations, {options.relationships:,} relationships, "
          f"{options.customers:,} customers, {options.partners:,} partners)")
    print(f"{'route':<32}{'empty/s':>9}{'large/s':>9}{'ratio':>7}{'p99 empty':>11}{'p99 large':>11}{'CPU µs/req empty':>18}{'large':>7}{'ratio':>7}")
    targets = []
    for key in ("issue", "accept", "accept_shared"):
        if key in empty["routes"] and key in large["routes"]:
            e, l = empty["routes"][key], large["routes"][key]
            ratio = l["rate"] / e["rate"]
            print(f"{e['label']:<32}{e['rate']:>9,.0f}{l['rate']:>9,.0f}{ratio:>7.2f}{e['p99_ms']:>11.1f}{l['p99_ms']:>11.1f}"
                  f"{e['server_cpu_us']:>18.0f}{l['server_cpu_us']:>7.0f}{l['server_cpu_us'] / e['server_cpu_us']:>7.2f}")
            if key != "accept_shared":
                targets.append({"target": f"{e['label']} large >= 0.9x empty", "met": ratio >= 0.9,
                                "detail": f"{ratio:.2f}× ({l['rate']:,.0f} vs {e['rate']:,.0f}/s; server CPU/req {l['server_cpu_us'] / e['server_cpu_us']:.2f}×)"})
    print("  (the two runs follow each other, each with its own anchors: bare route "
          f"{empty['anchors']['bare_route']['rate']:,.0f} and {large['anchors']['bare_route']['rate']:,.0f}/s)")
    lists = large.get("lists", {})
    for name, r in lists.get("pages", {}).items():
        targets.append({"target": f"{name} p99 < 10 ms", "met": r["p99_ms"] < 10, "detail": f"p99 {r['p99_ms']:.2f} ms, {r['rate']:,.0f}/s"})
    print("targets (issue 17, item 5):")
    for t in targets:
        print(f"  {'met   ' if t['met'] else 'MISSED'}  {t['target']}: {t['detail']}")
    with open(options.json, "w") as f:
        json.dump({"empty": empty, "large": large, "targets": targets}, f, indent=1)
    print(f"every figure: {options.json} (and {empty_json}, {large_json})")


if __name__ == "__main__":
    sys.exit(main())
