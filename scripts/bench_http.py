#!/usr/bin/env python3
"""HTTP benchmark: wrk against issuance, the acceptance page and acceptance (unique customers),
beside a bare route of the same server as the ceiling, all in one invocation.

Usage: scripts/bench_http.py [--binary .build/release/invitelink] [--seconds 8] [--alg ed25519] [--only TEXT]
                             [--postgres postgres://…]   (default: $INVITELINK_TEST_POSTGRES_URL if
                                                          --database postgres, else SQLite)

Prints req/s, p50 and p99 for each, the ratio to the ceiling, the CPU time per request of the
server (all its threads, from /proc: steadier than req/s when wrk and other work share the cores)
and of wrk, and the server's peak memory (VmHWM). Everything runs on 127.0.0.1 in a temporary directory and is stopped at the end.
Customers for the acceptance run are inserted straight into the database (sqlite3, or psql
\copy into a fresh schema; thousands of CLI calls would take minutes); their credentials are
hashed exactly as `credentials create` does.
"""
import argparse
import hashlib
import json
import os
import re
import resource
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(binary, *args, env):
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


def wait_healthy(base, deadline=20):
    end = time.time() + deadline
    while time.time() < end:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not become healthy")


def cpu_seconds(pid):
    """User plus system CPU time the process has used so far, every thread counted."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(url, seconds, server_pid, script=None, env=None, connections=32):
    """Rate, p50, p99, non-2xx count, and the CPU time per request in microseconds of the
    server and of wrk itself: the server's is the steadiest figure on a machine whose cores wrk
    and other work share, and the two together show what the two cores can give."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", script]
    cpu_before, wrk_before = cpu_seconds(server_pid), children_cpu_seconds()
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    cpu_used, wrk_used = cpu_seconds(server_pid) - cpu_before, children_cpu_seconds() - wrk_before
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))

    def percentile(p):
        match = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, percentile(50), percentile(99), int(non2xx.group(1)) if non2xx else 0, cpu_used / requests * 1e6, wrk_used / requests * 1e6


def lua(path, body_lines):
    with open(path, "w") as f:
        f.write(body_lines)
    return path


def accept_script(path, creds_file, token):
    """The acceptance script: one link, the next customer's credential on every request."""
    return lua(path,
               'local creds = {}\n'
               f'for line in io.lines("{creds_file}") do creds[#creds + 1] = line end\n'
               'local i = 0\n'
               f'local body = \'{{"token":"{token}"}}\'\n'
               'request = function()\n'
               '  i = i + 1\n'
               '  local headers = {["Authorization"] = "Bearer " .. creds[(i - 1) % #creds + 1], ["Content-Type"] = "application/json"}\n'
               '  return wrk.format("POST", "/v1/acceptances", headers, body)\n'
               'end\n')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/invitelink")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--alg", default="ed25519", choices=["ed25519", "hs256"])
    parser.add_argument("--customers", type=int, default=60000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres", default=os.environ.get("INVITELINK_TEST_POSTGRES_URL"))
    parser.add_argument("--only", help="run the ceiling and only the routes whose name contains this text (e.g. 'POST /v1/inv')")
    options = parser.parse_args()
    if options.database == "postgres" and not options.postgres:
        raise SystemExit("--database postgres needs --postgres URL or INVITELINK_TEST_POSTGRES_URL (make bench DATABASE=postgres sets it)")
    binary = os.path.abspath(options.binary)

    work = tempfile.mkdtemp(prefix="invitelink-bench-")
    database = os.path.join(work, "db.sqlite")
    database_url = "sqlite:" + database
    if options.database == "postgres":
        schema = "bench_" + secrets.token_hex(4)
        subprocess.run(["psql", "-q", options.postgres, "-c", f"CREATE SCHEMA {schema}"], check=True)
        database_url = options.postgres + ("&" if "?" in options.postgres else "?") + "search_path=" + schema
    env = dict(os.environ, INVITELINK_KEYS_DIR=os.path.join(work, "Keys"), INVITELINK_DATABASE=database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["INVITELINK_PUBLIC_URL"] = base

    run(binary, "keys", "rotate", "--alg", options.alg, env=env)
    run(binary, "partners", "add", "--id", "r1", "--name", "Bench Reseller", "--kind", "reseller", env=env)
    run(binary, "partners", "add", "--id", "p1", "--name", "Bench Provider", "--kind", "provider", env=env)
    run(binary, "partners", "connect", "--reseller", "r1", "--provider", "p1", env=env)
    reseller = json.loads(run(binary, "credentials", "create", "--partner", "r1", "--role", "admin-agent", "--json", env=env))["secret"]

    now = int(time.time())
    customer_secrets = []
    rows = []
    for n in range(options.customers):
        cid = f"bench-{n}"
        secret = f"cred_{cid}." + secrets.token_urlsafe(32)
        customer_secrets.append(secret)
        rows.append((cid, secret))
    if options.database == "postgres":
        with open(os.path.join(work, "customers.csv"), "w") as customers, open(os.path.join(work, "credentials.csv"), "w") as credentials:
            for cid, secret in rows:
                customers.write(f"{cid},Customer {cid},{cid}.example,{now}\n")
                credentials.write(f"cred_{cid},{cid},global-admin,\\x{hashlib.sha256(secret.encode()).hexdigest()},{now}\n")
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", options.postgres, "-c", f"SET search_path={schema}",
                        "-c", f"\\copy customers (id, name, domain, created_at) FROM '{work}/customers.csv' CSV",
                        "-c", f"\\copy credentials (id, customer_id, role, secret_hash, created_at) FROM '{work}/credentials.csv' CSV"],
                       check=True)
    else:
        db = sqlite3.connect(database)
        with db:
            for cid, secret in rows:
                db.execute("INSERT INTO customers (id, name, domain, created_at) VALUES (?, ?, ?, ?)", (cid, f"Customer {cid}", f"{cid}.example", now))
                db.execute("INSERT INTO credentials (id, customer_id, role, secret_hash, created_at) VALUES (?, ?, 'global-admin', ?, ?)",
                           (f"cred_{cid}", cid, hashlib.sha256(secret.encode()).digest(), now))
        db.close()
    creds_file = os.path.join(work, "customers.txt")
    with open(creds_file, "w") as f:
        f.write("\n".join(customer_secrets) + "\n")

    server = subprocess.Popen([binary, "serve", "--port", str(port), "--log-level", "warning"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(base)
        request = urllib.request.Request(base + "/v1/invitations", data=b'{"provider_id":"p1","dap":true,"expires_in":86400}',
                                         headers={"Authorization": "Bearer " + reseller, "Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            token = json.load(response)["token"]

        issue_lua = lua(os.path.join(work, "issue.lua"),
                        'wrk.method = "POST"\nwrk.body = \'{"dap":true}\'\n'
                        f'wrk.headers["Authorization"] = "Bearer {reseller}"\nwrk.headers["Content-Type"] = "application/json"\n')
        accept_lua = accept_script(os.path.join(work, "accept.lua"), creds_file, token)

        routes = [
            ("POST /v1/invitations", base + "/v1/invitations", issue_lua),
            ("GET /invitations/accept", f"{base}/invitations/accept?token={token}", None),
            ("POST /v1/acceptances", base + "/v1/acceptances", accept_lua),
        ]
        results = [("bare route GET /healthz", wrk(base + "/healthz", options.seconds, server.pid))]
        for name, url, script in routes:
            if options.only is None or options.only in name:
                results.append((name, wrk(url, options.seconds, server.pid, script)))

        with open(f"/proc/{server.pid}/status") as f:
            peak = next(line.split()[1] for line in f if line.startswith("VmHWM"))
        if options.database == "postgres":
            accepted = subprocess.run(["psql", "-tA", options.postgres, "-c", f"SELECT count(*) FROM {schema}.acceptances"],
                                      check=True, capture_output=True, text=True).stdout.strip()
        else:
            db = sqlite3.connect(database)
            accepted = db.execute("SELECT COUNT(*) FROM acceptances").fetchone()[0]
            db.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()

    ceiling = results[0][1][0]
    backend = "PostgreSQL" if options.database == "postgres" else "SQLite WAL synchronous=FULL"
    print(f"HTTP benchmark ({options.alg} keys, {backend}, wrk -t1 -c32 -d{options.seconds}s, cores shared with wrk)")
    print(f"{'route':<28}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'non-2xx':>9}{'CPU µs/req: server':>20}{'wrk':>6}")
    for name, (rate, p50, p99, non2xx, cpu, wrk_cpu) in results:
        print(f"{name:<28}{rate:>10,.0f}{p50:>9.2f}{p99:>9.2f}{rate / ceiling:>8.2f}{non2xx:>9}{cpu:>20.0f}{wrk_cpu:>6.0f}")
    print(f"durable acceptances in the database: {accepted}; peak server memory (VmHWM): {int(peak) / 1024:.1f} MiB")


if __name__ == "__main__":
    sys.exit(main())
