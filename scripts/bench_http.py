#!/usr/bin/env python3
"""HTTP benchmark of issue 17: wrk against issuance and acceptance, beside anchors measured in the
same invocation, a table of ratios, one line per target saying met or missed, and a JSON file of
every figure.

Usage: scripts/bench_http.py [--binary .build-release/release/invitelink]
                             [--bare .build-release/release/invitelink-bare]
                             [--seconds 8] [--connections 32] [--alg ed25519] [--only TEXT]
                             [--database sqlite|postgres] [--postgres postgres://…]
                             [--pgbench-scale 10] [--json build/bench.json] [--core-json FILE]
                             [--populate I,R,C,P] [--lists] [--perf issue,accept] [--keep]

Anchors, all in this invocation:
  * `openssl speed -mr ed25519` on one core, before and after the HTTP runs (the mean of the two):
    one signature costs 1/sign-rate, one verification 1/verify-rate of a core;
  * a bare Hummingbird 2 route, `invitelink-bare PORT` (GET /bare, same toolchain, same release
    build), on 127.0.0.1 under the same wrk settings: its rate and its CPU per request;
  * with --database postgres, `pgbench -M prepared` tpcb-like (--pgbench-scale, in its own
    database `pgbench` of the same throwaway cluster) with as many clients as wrk has
    connections, before and after the HTTP runs (the mean of the two).

The service's routes (wrk -t1 -cN, cores shared with wrk and with the machine's other work):
  * GET /healthz of the service itself;
  * POST /v1/invitations (issuance); every token it answers is kept (wrk's response hook) for
  * POST /v1/acceptances, personalized (the headline): every customer accepts ITS OWN link, one
    of those issued in the issuance run, so every acceptance verifies a signature never seen
    (should the acceptances outpace those links, more are issued between slices, outside the
    measured time; a link used twice would be reported);
  * GET /invitations/accept?token=… (the acceptance page) of one shared link;
  * POST /v1/acceptances, shared link: every customer accepts the same link. Flattered by the
    verified-signature cache (all but the first verification are cache hits); not a target.

Each run is wrk in 1-second slices (the request counter carries over between slices, so no
customer and no link is used twice); the slices' full latency histograms (wrk's `done` hook) are
merged for the run's p50/p99/max, and each slice's own p99 is printed on one line, so a stall is
visible as a second whose p99 stands out. The server's CPU per request comes from /proc (all its
threads, user + system, counted only while a slice runs), steadier than req/s when wrk and other
work share the cores, and so do its context switches per request; with PostgreSQL, the CPU of the
cluster's processes is shown beside it, and the transactions and statements per request
(pg_stat_database, pg_stat_statements when loaded: `make bench DATABASE=postgres` loads it).

Targets (issue 17), each printed as met or MISSED with its numbers: issuance >= 10,000/s and
p99 < 20 ms, acceptance (own link) >= 3,000/s and p99 < 20 ms (SQLite); server CPU per issuance
<= 2 x (bare route + one Ed25519 signature), per acceptance <= 2 x (bare route + one Ed25519
verification), both from this run's anchors; on PostgreSQL acceptance >= 0.9x and issuance >=
1.0x the pgbench tps, peak RSS <= 64 MiB.

--populate fills the database with generated rows first (scripts/bench_scale.py; `make
bench-scale`), --lists also times r1's list pages and shows their query plans, --perf records the
server with `perf record -g` during the named runs (build/perf-<key>*.txt: by symbol, inclusive,
and by shared object and Swift module; those runs' figures are not for comparison).

Customers for the acceptance runs are inserted straight into the database (sqlite3, or psql
\\copy into a fresh schema); their credentials are hashed exactly as `credentials create` does.
Everything runs on 127.0.0.1 in a temporary directory and is stopped at the end.
"""
import argparse
import hashlib
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

# Issue 17's targets.
ISSUE_RATE, ACCEPT_RATE, P99_MS = 10_000, 3_000, 20.0
CPU_FACTOR = 2.0
PG_ACCEPT_RATIO, PG_ISSUE_RATIO, RSS_MIB = 0.9, 1.0, 64


def slow_receiver(delay):
    """A webhook receiver on 127.0.0.1 answering 200 after `delay` seconds, in a daemon thread;
    its URL."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            time.sleep(delay)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/hook"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(binary, *args, env):
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


def wait_healthy(base, path="/healthz", deadline=20):
    end = time.time() + deadline
    while time.time() < end:
        try:
            with urllib.request.urlopen(base + path, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server at {base} did not answer {path}")


def cpu_seconds(pid):
    """User plus system CPU time the process has used so far, every thread counted."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def context_switches(pid):
    """Voluntary plus involuntary context switches of every live thread of the process so far."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def processes_cpu_seconds(parent):
    """CPU time of a process, its live children and the children it has reaped (a PostgreSQL
    postmaster, its backends, and the backends that have ended: pgbench's after its run)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == parent:
            total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
        elif int(fields[1]) == parent:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wrk(url, seconds, server_pid, script=None, env=None, connections=32):
    """One plain wrk run (bench_signin_flood.py uses it): rate, p50, p99, non-2xx count, and the
    CPU time per request in microseconds of the server and of wrk itself."""
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


# ---- wrk in 1-second slices ---------------------------------------------------------------------
# Every script gets this epilogue: `init` reads the request offset the slice starts at (so a
# customer or a link is never used twice across slices), `done` prints the slice's whole latency
# histogram (µs value, count) for the merge.
SLICE_EPILOGUE = r'''
offset = 0
init = function(args)
  offset = tonumber(args[1] or "0") or 0
  if init_more then init_more(args) end
end
done = function(summary, latency, requests)
  io.write(string.format("SLICE %d %d %d %d\n", summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for i = 1, #latency do
    local v, c = latency(i)
    io.write(string.format("H %d %d\n", v, c))
  end
end
'''


def lua(path, body):
    with open(path, "w") as f:
        f.write(body + SLICE_EPILOGUE)
    return path


def percentile_of(histogram, p):
    """The p-th percentile (ms) of a {µs: count} histogram."""
    total = sum(histogram.values())
    if total == 0:
        return float("nan")
    wanted, seen = total * p / 100, 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= wanted:
            return value / 1000
    return max(histogram) / 1000


def wrk_sliced(url, seconds, server_pid, script, connections, extra_pids=(), before_slice=None, counters=None):
    """wrk -t1 -cN for `seconds` 1-second slices. Returns a dict of figures: rate (requests over
    the slices' own durations), p50/p99/max from the merged histograms, non-2xx and socket
    errors, CPU µs per request of the server, of wrk and of `extra_pids` (process trees), and the
    per-second p99s and rates. CPU is counted only while a slice runs: `before_slice(offset,
    slices)`, called before each slice, may use the server between slices (minting links).
    `counters()`, if given, returns a dict of cumulative numbers (the database's transactions and
    statements) read around each slice; their deltas come back per request."""
    histogram, per_second, requests, duration, non2xx, errors = {}, [], 0, 0.0, 0, 0
    offset, cpu_used, wrk_used, extra_used, switches = 0, 0.0, 0.0, 0.0, 0
    counted = {}
    for _ in range(seconds):
        if before_slice:
            before_slice(offset, per_second)
        command = ["wrk", "-t1", f"-c{connections}", "-d1s", "-s", script, url, "--", str(offset)]
        cpu_before, wrk_before = cpu_seconds(server_pid), children_cpu_seconds()
        extra_before = sum(processes_cpu_seconds(pid) for pid in extra_pids)
        counters_before = counters() if counters else {}
        switches_before = context_switches(server_pid)
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        switches += context_switches(server_pid) - switches_before
        for name, value in (counters() if counters else {}).items():
            counted[name] = counted.get(name, 0) + value - counters_before.get(name, 0)
        cpu_used += cpu_seconds(server_pid) - cpu_before
        wrk_used += children_cpu_seconds() - wrk_before
        extra_used += sum(processes_cpu_seconds(pid) for pid in extra_pids) - extra_before
        slice_histogram = {}
        for line in output.splitlines():
            if line.startswith("H "):
                _, value, count = line.split()
                slice_histogram[int(value)] = slice_histogram.get(int(value), 0) + int(count)
            elif line.startswith("SLICE "):
                _, n, micros, status_errors, socket_errors = line.split()
                n = int(n)
                requests += n
                duration += int(micros) / 1e6
                non2xx += int(status_errors)
                errors += int(socket_errors)
                per_second.append({"requests": n, "rate": n / (int(micros) / 1e6)})
        for value, count in slice_histogram.items():
            histogram[value] = histogram.get(value, 0) + count
        per_second[-1]["p99_ms"] = percentile_of(slice_histogram, 99)
        per_second[-1]["max_ms"] = max(slice_histogram) / 1000 if slice_histogram else float("nan")
        # Requests still in flight when a slice ended may have reached the server: skip them.
        offset += per_second[-1]["requests"] + connections
    return {
        "requests": requests, "seconds": duration, "rate": requests / duration if duration else 0.0,
        "p50_ms": percentile_of(histogram, 50), "p99_ms": percentile_of(histogram, 99), "max_ms": max(histogram) / 1000,
        "non2xx": non2xx, "socket_errors": errors,
        "server_cpu_us": cpu_used / requests * 1e6, "wrk_cpu_us": wrk_used / requests * 1e6,
        "db_cpu_us": extra_used / requests * 1e6 if extra_pids else None,
        "server_context_switches_per_req": switches / requests,
        **({f"{name}_per_req": value / requests for name, value in counted.items()} if counters else {}),
        "requests_used": offset,
        "per_second": per_second,
    }


def count_lines(path):
    with open(path) as f:
        return sum(1 for _ in f)


def link_minter(url, script, links_file, connections, floor, limit):
    """A before_slice for the personalized acceptance run: before each slice, as long as fewer than
    offset + 2 × (the busiest slice so far, or `floor`) + connections links exist, issues more
    with the issuance script in unmeasured 1-second wrk runs (never more than `limit` in all)."""
    minted = {"runs": 0}

    def before(offset, slices):
        busiest = max([s["requests"] for s in slices] + [floor])
        need = min(limit, offset + 2 * busiest + connections)
        while count_lines(links_file) < need and minted["runs"] < 60:
            subprocess.run(["wrk", "-t1", f"-c{connections}", "-d1s", "-s", script, url, "--", "0"], check=True, capture_output=True)
            minted["runs"] += 1
    return before, minted


def accept_script(path, creds_file, token):
    """The shared-link acceptance script (bench_signin_flood.py uses it too): one link, the next
    customer's credential on every request (from the slice's offset on)."""
    return lua(path,
               'local creds = {}\n'
               f'for line in io.lines("{creds_file}") do creds[#creds + 1] = line end\n'
               'local i = 0\n'
               f'local body = \'{{"token":"{token}"}}\'\n'
               'request = function()\n'
               '  i = i + 1\n'
               '  local headers = {["Authorization"] = "Bearer " .. creds[(offset + i - 1) % #creds + 1], ["Content-Type"] = "application/json"}\n'
               '  return wrk.format("POST", "/v1/acceptances", headers, body)\n'
               'end\n')


def personalized_accept_script(path, creds_file, links_file):
    """The headline acceptance script: request n is customer n accepting link n, its own."""
    return lua(path,
               'local creds, links = {}, {}\n'
               f'for line in io.lines("{creds_file}") do creds[#creds + 1] = line end\n'
               f'for line in io.lines("{links_file}") do links[#links + 1] = line end\n'
               'local n = math.min(#creds, #links)\n'
               'local i = 0\n'
               'request = function()\n'
               '  i = i + 1\n'
               '  local k = (offset + i - 1) % n + 1\n'
               '  local headers = {["Authorization"] = "Bearer " .. creds[k], ["Content-Type"] = "application/json"}\n'
               '  return wrk.format("POST", "/v1/acceptances", headers, \'{"token":"\' .. links[k] .. \'"}\')\n'
               'end\n')


def issue_script(path, reseller, links_file):
    """Issuance; every token answered is appended to links_file for the personalized run."""
    return lua(path,
               'wrk.method = "POST"\nwrk.body = \'{"dap":true}\'\n'
               f'wrk.headers["Authorization"] = "Bearer {reseller}"\nwrk.headers["Content-Type"] = "application/json"\n'
               'local out\n'
               f'init_more = function(args) out = io.open("{links_file}", "a") end\n'
               'response = function(status, headers, body)\n'
               '  if status == 201 then\n'
               '    local t = body:match(\'"token":"([^"]+)"\')\n'
               '    if t then out:write(t, "\\n") end\n'
               '  end\n'
               'end\n')


def perf_by_module(data, top=30):
    """Self time of a perf.data by shared object, and inside the service's binary by Swift module
    (from the mangled symbol's module name): where the time goes, when Swift's async frames leave
    most call chains broken."""
    out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,sym", "-g", "none",
                          "--percent-limit", "0"], capture_output=True, text=True).stdout
    totals = {}
    for line in out.splitlines():
        match = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[.\]\s+(.*)", line)
        if not match:
            continue
        share, dso, symbol = float(match.group(1)), match.group(2), match.group(3).strip()
        name = dso
        if dso == os.path.basename(dso) and not dso.startswith("[") and ".so" not in dso:
            module = re.match(r"\$ss?(\d+)([A-Za-z_]\w*)", symbol)
            name = f"{dso}:{module.group(2)[:int(module.group(1))]}" if module else f"{dso}:{symbol[:40]}"
        totals[name] = totals.get(name, 0.0) + share
    lines = [f"{share:6.2f}%  {name}" for name, share in sorted(totals.items(), key=lambda item: -item[1])[:top]]
    return "self time by shared object, and by Swift module inside the executable\n" + "\n".join(lines) + "\n"


# ---- Anchors ------------------------------------------------------------------------------------
def openssl_ed25519(seconds=2):
    """Ed25519 signatures and verifications per second on one core (`openssl speed -mr`)."""
    output = subprocess.run(["openssl", "speed", "-elapsed", "-seconds", str(seconds), "-mr", "ed25519"],
                            check=True, capture_output=True, text=True).stdout
    for line in output.splitlines():
        if line.startswith("+F6:"):
            fields = line.split(":")
            return float(fields[4]), float(fields[5])
    raise SystemExit("no +F6 line in openssl speed's output")


def run_bare(bare, seconds, connections, work):
    port = free_port()
    process = subprocess.Popen([bare, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", "/bare")
        script = lua(os.path.join(work, "bare.lua"), "")
        result = wrk_sliced(f"http://127.0.0.1:{port}/bare", seconds, process.pid, script, connections)
        with open(f"/proc/{process.pid}/status") as f:
            result["peak_rss_mib"] = int(next(line.split()[1] for line in f if line.startswith("VmHWM"))) / 1024
        return result
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def pgbench_binary():
    """pgbench of the newest /usr/lib/postgresql/*/bin (the server with-postgres.sh runs), else PATH."""
    import glob
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return found[-1] if found else "pgbench"


def pgbench_url(url):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/pgbench", "", ""))


def pgbench_init(url, scale):
    subprocess.run(["psql", "-q", url, "-c", "DROP DATABASE IF EXISTS pgbench", "-c", "CREATE DATABASE pgbench"],
                   check=True, capture_output=True)
    subprocess.run([pgbench_binary(), "-i", "-q", "-s", str(scale), pgbench_url(url)], check=True, capture_output=True)
    # A short warm-up, not counted: the first seconds after initialisation run slower (checkpoint, cold cache).
    subprocess.run([pgbench_binary(), "-M", "prepared", "-c", "8", "-j", "1", "-T", "3", "-n", pgbench_url(url)], check=True, capture_output=True)


def pgbench_run(url, seconds, clients, postmaster):
    cpu_before = processes_cpu_seconds(postmaster) if postmaster else 0.0
    result = subprocess.run([pgbench_binary(), "-M", "prepared", "-c", str(clients), "-j", "1", "-T", str(seconds), "-P", "1", "-n",
                             pgbench_url(url)], check=True, capture_output=True, text=True)
    cpu_used = processes_cpu_seconds(postmaster) - cpu_before if postmaster else 0.0
    output = result.stdout + result.stderr
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", output).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", output).group(1))
    transactions = int(re.search(r"number of transactions actually processed: (\d+)", output).group(1))
    progress = [float(m) for m in re.findall(r"progress: [\d.]+ s, ([\d.]+) tps", output)]
    return {"tps": tps, "latency_avg_ms": latency, "transactions": transactions, "per_second_tps": progress,
            "cluster_cpu_us": cpu_used / transactions * 1e6 if transactions else None}


def pg_counters(url, schema):
    """Cumulative transactions of the service's database and, when pg_stat_statements is loaded,
    statements run in the bench schema's database by the service (pgbench runs in its own)."""
    query = ("SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()), "
             "(SELECT COALESCE(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
             "WHERE d.datname = current_database() AND s.query NOT ILIKE '%pg_stat%') ")
    have_statements = subprocess.run(["psql", "-tA", url, "-c", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                                      "-c", "SELECT count(*) FROM pg_stat_statements"], capture_output=True, text=True).returncode == 0

    def read():
        # psql's own statements are counted too: one transaction and two statements a read,
        # four reads a slice at most; negligible against thousands of requests.
        out = subprocess.run(["psql", "-tA", "-F", " ", url, "-c",
                              query if have_statements else query.split(", (SELECT COALESCE")[0]],
                             capture_output=True, text=True).stdout.split()
        values = {"pg_transactions": int(out[0])} if out else {}
        if have_statements and len(out) > 1:
            values["pg_statements"] = int(float(out[1]))
        return values
    return read, have_statements


def postmaster_pid(url):
    try:
        data = subprocess.run(["psql", "-tA", url, "-c", "SHOW data_directory"], check=True, capture_output=True, text=True).stdout.strip()
        with open(os.path.join(data, "postmaster.pid")) as f:
            return int(f.readline())
    except (OSError, ValueError, subprocess.CalledProcessError):
        return None


def list_pages(options, database, schema, work, base, reseller, server_pid, extra):
    """p50/p99 of r1's first and deep pages of GET /v1/customers and /v1/invitations, and the plans."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench_scale
    cursors = bench_scale.deep_cursors(database if options.database == "sqlite" else None, options.postgres, schema)
    script = lua(os.path.join(work, "lists.lua"), f'wrk.headers["Authorization"] = "Bearer {reseller}"\n')
    pages = {}
    for name, path in [
        ("GET /v1/customers first page", "/v1/customers"),
        (f"GET /v1/customers row {cursors['customers'][1]:,} of {cursors['customers'][2]:,}",
         "/v1/customers?cursor=" + cursors["customers"][0]),
        ("GET /v1/invitations first page", "/v1/invitations"),
        (f"GET /v1/invitations row {cursors['invitations'][1]:,} of {cursors['invitations'][2]:,}",
         "/v1/invitations?cursor=" + cursors["invitations"][0]),
    ]:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers={"Authorization": "Bearer " + reseller})) as response:
            if response.status != 200 or not json.load(response).get("items"):
                raise SystemExit(f"{path}: no items")
        pages[name] = wrk_sliced(base + path, max(3, options.seconds // 2), server_pid, script, options.list_connections, extra)
    return {"deep_fraction": 0.9, "connections": options.list_connections, "cursors": cursors, "pages": pages,
            "plans": bench_scale.plans(database if options.database == "sqlite" else None, options.postgres, schema, cursors)}


# ---- Setup --------------------------------------------------------------------------------------
def add_customers(options, database, schema, work, prefix, count, now):
    """Customers with a global-admin credential each (straight into the database); their secrets."""
    rows = []
    for n in range(count):
        cid = f"{prefix}-{n}"
        rows.append((cid, f"cred_{cid}." + secrets.token_urlsafe(32)))
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
            db.executemany("INSERT INTO customers (id, name, domain, created_at) VALUES (?, ?, ?, ?)",
                           ((cid, f"Customer {cid}", f"{cid}.example", now) for cid, _ in rows))
            db.executemany("INSERT INTO credentials (id, customer_id, role, secret_hash, created_at) VALUES (?, ?, 'global-admin', ?, ?)",
                           ((f"cred_{cid}", cid, hashlib.sha256(secret.encode()).digest(), now) for cid, secret in rows))
        db.close()
    path = os.path.join(work, f"{prefix}.txt")
    with open(path, "w") as f:
        f.write("\n".join(secret for _, secret in rows) + "\n")
    return path


def git_commit():
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build-release/release/invitelink")
    parser.add_argument("--bare", default=".build-release/release/invitelink-bare")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--alg", default="ed25519", choices=["ed25519", "hs256"])
    parser.add_argument("--customers", type=int, default=100000,
                        help="customers for each acceptance run (personalized, shared): more than a run can accept")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres", default=os.environ.get("INVITELINK_TEST_POSTGRES_URL"))
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--only", help="run the anchors and only the routes whose name contains this text (e.g. 'POST /v1/inv')")
    parser.add_argument("--serve-option", action="append", default=[], metavar="OPTION",
                        help="pass OPTION on to `invitelink serve` (repeatable; e.g. --serve-option=--audit-seal-interval=1 "
                             "to seal continuously, so the seals' cost lands inside the measured seconds)")
    parser.add_argument("--sqlite-after-start", metavar="SQL",
                        help="an experiment, SQLite only: run SQL on the database once the server is up (e.g. "
                             "'DROP INDEX audit_log_of_customer' to price an index; the server re-prepares its statements)")
    parser.add_argument("--json", help="write every figure here (make bench: build/bench.json)")
    parser.add_argument("--core-json", help="the signing-core figures of scripts/bench.sh to include in --json")
    parser.add_argument("--populate", metavar="INVITATIONS,RELATIONSHIPS,CUSTOMERS,PARTNERS",
                        help="fill the database with generated rows first (scripts/bench_scale.py)")
    parser.add_argument("--lists", action="store_true",
                        help="also time r1's GET /v1/customers and /v1/invitations, first and deep page, and show their query plans")
    parser.add_argument("--perf", metavar="ROUTES",
                        help="profile the server with `perf record -g` during these runs (comma-separated keys: issue, accept, "
                             "accept_shared, page, healthz); reports in build/perf-<key>.txt. Slows those runs: not for the figures")
    parser.add_argument("--list-connections", type=int, default=4,
                        help="wrk connections for the list pages (--lists): a latency figure, so fewer than for the write routes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, scripts, links)")
    parser.add_argument("--webhook-receiver", metavar="SECONDS", type=float,
                        help="register a webhook for the bench reseller at a receiver on 127.0.0.1 that answers 200 "
                             "after SECONDS (serve --webhooks-allow-insecure): what acceptances cost while their "
                             "events are fanned out and delivered to a slow receiver")
    options = parser.parse_args()
    if options.database == "postgres" and not options.postgres:
        raise SystemExit("--database postgres needs --postgres URL or INVITELINK_TEST_POSTGRES_URL (make bench DATABASE=postgres sets it)")
    binary, bare = os.path.abspath(options.binary), os.path.abspath(options.bare)
    for path in (binary, bare):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"no executable {path} (swift build -c release --scratch-path .build-release --product …)")
    started = time.time()
    seconds, connections = options.seconds, options.connections
    figures = {"commit": git_commit(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
               "database": options.database, "alg": options.alg,
               "wrk": f"wrk -t1 -c{connections}, {seconds} slices of 1 s", "cpus": os.cpu_count(),
               "loadavg_before": os.getloadavg(),
               "binary": {"path": binary, "modified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.path.getmtime(binary)))}}

    work = tempfile.mkdtemp(prefix="invitelink-bench-")
    database = os.path.join(work, "db.sqlite")
    database_url = "sqlite:" + database
    schema, postmaster = None, None
    if options.database == "postgres":
        schema = "bench_" + secrets.token_hex(4)
        subprocess.run(["psql", "-q", options.postgres, "-c", f"CREATE SCHEMA {schema}"], check=True)
        database_url = options.postgres + ("&" if "?" in options.postgres else "?") + "search_path=" + schema
        postmaster = postmaster_pid(options.postgres)
    env = dict(os.environ, INVITELINK_KEYS_DIR=os.path.join(work, "Keys"), INVITELINK_DATABASE=database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["INVITELINK_PUBLIC_URL"] = base

    # ---- Anchors before ----
    anchors = {"openssl": []}
    anchors["openssl"].append(openssl_ed25519())
    print(f"anchor: openssl speed ed25519 {anchors['openssl'][0][0]:,.0f} sign/s, {anchors['openssl'][0][1]:,.0f} verify/s", file=sys.stderr)
    anchors["bare"] = run_bare(bare, seconds, connections, work)
    print(f"anchor: bare route {anchors['bare']['rate']:,.0f}/s, {anchors['bare']['server_cpu_us']:.0f} µs/req", file=sys.stderr)
    if options.database == "postgres":
        pgbench_init(options.postgres, options.pgbench_scale)
        anchors["pgbench"] = [pgbench_run(options.postgres, seconds, connections, postmaster)]
        print(f"anchor: pgbench {anchors['pgbench'][0]['tps']:,.0f} tps", file=sys.stderr)

    # ---- The service ----
    run(binary, "keys", "rotate", "--alg", options.alg, env=env)
    run(binary, "partners", "add", "--id", "r1", "--name", "Bench Reseller", "--kind", "reseller", env=env)
    run(binary, "partners", "add", "--id", "p1", "--name", "Bench Provider", "--kind", "provider", env=env)
    run(binary, "partners", "connect", "--reseller", "r1", "--provider", "p1", env=env)
    reseller = json.loads(run(binary, "credentials", "create", "--partner", "r1", "--role", "admin-agent", "--json", env=env))["secret"]
    if options.populate:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import bench_scale
        sizes = [int(n) for n in options.populate.split(",")]
        populate_started = time.time()
        bench_scale.populate(database if options.database == "sqlite" else None, options.postgres, schema, work, *sizes)
        figures["populated"] = dict(zip(("invitations", "relationships", "customers", "partners"), sizes),
                                    seconds=time.time() - populate_started)
    now = int(time.time())
    personal_creds = add_customers(options, database, schema, work, "personal", options.customers, now)
    shared_creds = add_customers(options, database, schema, work, "shared", options.customers, now)
    links_file = os.path.join(work, "links.txt")
    open(links_file, "w").close()

    serve = [binary, "serve", "--port", str(port), "--log-level", "warning", *options.serve_option]
    receiver = None
    if options.webhook_receiver is not None:
        serve.append("--webhooks-allow-insecure")
        receiver = slow_receiver(options.webhook_receiver)
    server = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    extra = (postmaster,) if postmaster else ()
    counters, have_statements = (pg_counters(options.postgres, schema) if options.database == "postgres" else (None, False))
    results = {}
    try:
        wait_healthy(base)
        if options.sqlite_after_start:
            if options.database != "sqlite":
                raise SystemExit("--sqlite-after-start is for the SQLite database")
            subprocess.run(["sqlite3", database, options.sqlite_after_start], check=True)
        if receiver:
            admin = json.loads(run(binary, "credentials", "create", "--partner", "r1", "--role", "global-admin", "--json", env=env))["secret"]
            hook = urllib.request.Request(base + "/v1/webhooks", data=json.dumps({"url": receiver}).encode(),
                                          headers={"Authorization": "Bearer " + admin, "Content-Type": "application/json"})
            with urllib.request.urlopen(hook) as response:
                figures["webhook"] = {"url": receiver, "delay_seconds": options.webhook_receiver, "id": json.load(response)["id"]}
        request = urllib.request.Request(base + "/v1/invitations", data=b'{"provider_id":"p1","dap":true,"expires_in":86400}',
                                         headers={"Authorization": "Bearer " + reseller, "Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            shared_token = json.load(response)["token"]

        routes = [
            ("healthz", "GET /healthz (service)", base + "/healthz", lua(os.path.join(work, "healthz.lua"), "")),
            ("issue", "POST /v1/invitations", base + "/v1/invitations", issue_script(os.path.join(work, "issue.lua"), reseller, links_file)),
            ("accept", "POST /v1/acceptances own link", base + "/v1/acceptances",
             personalized_accept_script(os.path.join(work, "accept.lua"), personal_creds, links_file)),
            ("page", "GET /invitations/accept", f"{base}/invitations/accept?token={shared_token}", lua(os.path.join(work, "page.lua"), "")),
            ("accept_shared", "POST /v1/acceptances shared*", base + "/v1/acceptances",
             accept_script(os.path.join(work, "accept_shared.lua"), shared_creds, shared_token)),
        ]
        labels = {key: name for key, name, _, _ in routes}
        for key, name, url, script in routes:
            if options.only is not None and options.only not in name and key != "healthz":
                continue
            before_slice, minted = None, None
            if key == "accept":
                # Enough links for every customer to accept its own: those of the issuance run, and
                # more issued between slices (outside the measured time) when the run outpaces them.
                issued_per_second = max([s["requests"] for s in results["issue"]["per_second"]] if "issue" in results else [1000])
                before_slice, minted = link_minter(base + "/v1/invitations", routes[1][3], links_file, connections,
                                                   issued_per_second, options.customers)
            profiler = None
            if options.perf and key in options.perf.split(","):
                os.makedirs("build", exist_ok=True)
                profiler = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-o", f"build/perf-{key}.data", "-p", str(server.pid)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            results[key] = wrk_sliced(url, seconds, server.pid, script, connections, extra, before_slice, counters)
            if profiler:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=60)
                for kind, flags in (("", ["--no-children"]), ("-children", ["--children"])):
                    with open(f"build/perf-{key}{kind}.txt", "w") as out:
                        subprocess.run(["perf", "report", "-i", f"build/perf-{key}.data", "--stdio", "--sort", "dso,symbol", "-g", "none",
                                        "--percent-limit", "0.5", *flags], stdout=out, stderr=subprocess.DEVNULL)
                with open(f"build/perf-{key}-modules.txt", "w") as out:
                    out.write(perf_by_module(f"build/perf-{key}.data"))
                print(f"{name}: profile in build/perf-{key}.txt, -children.txt and -modules.txt", file=sys.stderr)
            print(f"{name}: {results[key]['rate']:,.0f}/s p99 {results[key]['p99_ms']:.1f} ms", file=sys.stderr)
            if key == "accept":
                links = count_lines(links_file)
                results[key]["links_available"] = links
                results[key]["links_minted_between_slices"] = minted["runs"]
                results[key]["links_reused"] = max(0, results[key]["requests_used"] - min(links, options.customers))

        if options.lists:
            figures["lists"] = list_pages(options, database, schema, work, base, reseller, server.pid, extra)

        with open(f"/proc/{server.pid}/status") as f:
            peak = int(next(line.split()[1] for line in f if line.startswith("VmHWM"))) / 1024
        if options.database == "postgres":
            accepted = int(subprocess.run(["psql", "-tA", options.postgres, "-c", f"SELECT count(*) FROM {schema}.acceptances"],
                                          check=True, capture_output=True, text=True).stdout.strip())
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
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
        if schema and not options.keep:
            subprocess.run(["psql", "-q", options.postgres, "-c", f"DROP SCHEMA {schema} CASCADE"], capture_output=True)

    # ---- Anchors after ----
    anchors["openssl"].append(openssl_ed25519())
    if options.database == "postgres":
        anchors["pgbench"].append(pgbench_run(options.postgres, seconds, connections, postmaster))
    sign_rate = statistics.mean(s for s, _ in anchors["openssl"])
    verify_rate = statistics.mean(v for _, v in anchors["openssl"])
    sign_us, verify_us = 1e6 / sign_rate, 1e6 / verify_rate
    bare_rate, bare_cpu = anchors["bare"]["rate"], anchors["bare"]["server_cpu_us"]
    pg_tps = statistics.mean(p["tps"] for p in anchors["pgbench"]) if options.database == "postgres" else None

    # ---- Report ----
    backend = "PostgreSQL" if options.database == "postgres" else "SQLite WAL synchronous=FULL"
    print()
    print(f"HTTP benchmark ({options.alg} keys, {backend}, wrk -t1 -c{connections}, {seconds} × 1 s slices, cores shared with wrk), commit {figures['commit']}, "
          f"{os.cpu_count()} cores, load average {figures['loadavg_before'][0]:.1f} before, {os.getloadavg()[0]:.1f} after"
          + (" — PROFILED with perf: not for the figures" if options.perf else ""))
    print("anchors (this run):")
    print(f"  openssl speed ed25519, one core: {sign_rate:,.0f} sign/s ({sign_us:.1f} µs), {verify_rate:,.0f} verify/s ({verify_us:.1f} µs)"
          f"  [before/after: {anchors['openssl'][0][0]:,.0f}/{anchors['openssl'][1][0]:,.0f} sign, "
          f"{anchors['openssl'][0][1]:,.0f}/{anchors['openssl'][1][1]:,.0f} verify]")
    b = anchors["bare"]
    print(f"  bare Hummingbird route (invitelink-bare GET /bare): {bare_rate:,.0f}/s, p99 {b['p99_ms']:.2f} ms, "
          f"{bare_cpu:.0f} µs server CPU/req, {b['server_context_switches_per_req']:.1f} cs/req, wrk {b['wrk_cpu_us']:.0f} µs/req, peak RSS {b['peak_rss_mib']:.1f} MiB")
    if pg_tps:
        p0, p1 = anchors["pgbench"]
        print(f"  pgbench -M prepared tpcb-like, scale {options.pgbench_scale}, -c{connections} -j1: {pg_tps:,.0f} tps "
              f"[before/after: {p0['tps']:,.0f}/{p1['tps']:,.0f}; latency avg {p0['latency_avg_ms']:.1f}/{p1['latency_avg_ms']:.1f} ms; "
              f"cluster CPU {p0['cluster_cpu_us'] or 0:.0f}/{p1['cluster_cpu_us'] or 0:.0f} µs/tx]")
    db_col = pg_tps is not None
    header = f"{'route':<32}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'×bare':>7}"
    header += f"{'×pgbench':>9}" if db_col else ""
    header += f"{'non-2xx':>8}{'CPU µs/req: server':>20}{'wrk':>6}" + (f"{'pg':>6}" if db_col else "") + f"{'cs/req':>8}"
    print(header)
    for key, r in results.items():
        line = f"{labels[key]:<32}{r['rate']:>9,.0f}{r['p50_ms']:>8.2f}{r['p99_ms']:>8.2f}{r['max_ms']:>8.1f}{r['rate'] / bare_rate:>7.2f}"
        line += f"{r['rate'] / pg_tps:>9.2f}" if db_col else ""
        line += f"{r['non2xx'] + r['socket_errors']:>8}{r['server_cpu_us']:>20.0f}{r['wrk_cpu_us']:>6.0f}"
        line += f"{r['db_cpu_us']:>6.0f}" if db_col and r["db_cpu_us"] is not None else ""
        line += f"{r['server_context_switches_per_req']:>8.1f}"
        print(line)
    if pg_tps:
        print("PostgreSQL work per request (pg_stat_database; statements from pg_stat_statements"
              + ("" if have_statements else ": not loaded, PG_EXTRA_OPTIONS='-c shared_preload_libraries=pg_stat_statements'") + "):")
        for key, r in results.items():
            if "pg_transactions_per_req" in r:
                print(f"  {labels[key]:<30} {r['pg_transactions_per_req']:.2f} transactions"
                      + (f", {r['pg_statements_per_req']:.2f} statements" if "pg_statements_per_req" in r else ""))
    print("cs/req: the server's context switches per request (all its threads, voluntary + involuntary, from /proc)")
    print("* every customer accepts the same link: the verified-signature cache answers all but the first verification (flattered; not a target)")
    if "accept" in results:
        a = results["accept"]
        note = f"; {a['links_reused']} requests REUSED a link (too few issued)" if a["links_reused"] else ""
        topped = f" (and {a['links_minted_between_slices']} unmeasured 1-s issuance runs between slices)" if a["links_minted_between_slices"] else ""
        print(f"  own link: {a['links_available']:,} links issued in the issuance run{topped}, {min(a['requests_used'], a['links_available']):,} used{note}")
    print("p99 by second (ms), a stall shows as a second that stands out:")
    for key, r in [("bare", anchors["bare"])] + list(results.items()):
        name = "bare route" if key == "bare" else labels[key]
        print(f"  {name:<30}" + " ".join(f"{s['p99_ms']:.1f}" for s in r["per_second"])
              + "   req/s: " + " ".join(f"{s['rate'] / 1000:.1f}k" for s in r["per_second"]))
    if pg_tps:
        for n, p in enumerate(anchors["pgbench"]):
            print(f"  pgbench {'before' if n == 0 else 'after':<22}tps: " + " ".join(f"{t / 1000:.1f}k" for t in p["per_second_tps"]))
    if "lists" in figures:
        lists = figures["lists"]
        print(f"list pages of r1 (limit 50; deep = the row {lists['deep_fraction']:.0%} down, by cursor; wrk -t1 -c{lists['connections']}):")
        for name, r in lists["pages"].items():
            print(f"  {name:<40}{r['rate']:>8,.0f}/s p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms max {r['max_ms']:.1f} ms "
                  f"non-2xx {r['non2xx'] + r['socket_errors']}, server CPU {r['server_cpu_us']:.0f} µs/req")
        for name, plan in lists["plans"].items():
            print(f"  plan, {name}:")
            for line in plan:
                print(f"    {line}")
    print(f"durable acceptances in the database: {accepted:,}; peak server memory (VmHWM): {peak:.1f} MiB")

    # ---- Targets ----
    targets = []

    def target(name, met, detail):
        targets.append({"target": name, "met": bool(met), "detail": detail})

    issue, accept = results.get("issue"), results.get("accept")
    if options.database == "sqlite":
        if issue:
            target("issuance >= 10,000/s", issue["rate"] >= ISSUE_RATE, f"{issue['rate']:,.0f}/s")
            target("issuance p99 < 20 ms", issue["p99_ms"] < P99_MS, f"p99 {issue['p99_ms']:.1f} ms (worst second {max(s['p99_ms'] for s in issue['per_second']):.1f} ms)")
        if accept:
            target("acceptance (own link) >= 3,000/s", accept["rate"] >= ACCEPT_RATE, f"{accept['rate']:,.0f}/s")
            target("acceptance (own link) p99 < 20 ms", accept["p99_ms"] < P99_MS,
                   f"p99 {accept['p99_ms']:.1f} ms (worst second {max(s['p99_ms'] for s in accept['per_second']):.1f} ms)")
    if issue:
        budget = CPU_FACTOR * (bare_cpu + sign_us)
        target("issuance CPU/req <= 2 x (bare + 1 Ed25519 sign)", issue["server_cpu_us"] <= budget,
               f"{issue['server_cpu_us']:.0f} µs vs 2 × ({bare_cpu:.0f} + {sign_us:.0f}) = {budget:.0f} µs ({issue['server_cpu_us'] / budget:.2f}× the budget)")
    if accept:
        budget = CPU_FACTOR * (bare_cpu + verify_us)
        target("acceptance (own link) CPU/req <= 2 x (bare + 1 Ed25519 verify)", accept["server_cpu_us"] <= budget,
               f"{accept['server_cpu_us']:.0f} µs vs 2 × ({bare_cpu:.0f} + {verify_us:.0f}) = {budget:.0f} µs ({accept['server_cpu_us'] / budget:.2f}× the budget)")
    if pg_tps:
        if accept:
            target("PostgreSQL acceptance (own link) >= 0.9x pgbench", accept["rate"] >= PG_ACCEPT_RATIO * pg_tps,
                   f"{accept['rate']:,.0f}/s = {accept['rate'] / pg_tps:.2f}× pgbench {pg_tps:,.0f} tps")
        if issue:
            target("PostgreSQL issuance >= 1.0x pgbench", issue["rate"] >= PG_ISSUE_RATIO * pg_tps,
                   f"{issue['rate']:,.0f}/s = {issue['rate'] / pg_tps:.2f}× pgbench {pg_tps:,.0f} tps")
        target("PostgreSQL peak RSS <= 64 MiB", peak <= RSS_MIB, f"{peak:.1f} MiB")
    print("targets (issue 17):")
    for t in targets:
        print(f"  {'met   ' if t['met'] else 'MISSED'}  {t['target']}: {t['detail']}")

    figures.update({
        "anchors": {
            "openssl_ed25519": {"runs": [{"sign_per_s": s, "verify_per_s": v} for s, v in anchors["openssl"]],
                                "sign_per_s": sign_rate, "verify_per_s": verify_rate, "sign_us": sign_us, "verify_us": verify_us},
            "bare_route": anchors["bare"],
            **({"pgbench": {"scale": options.pgbench_scale, "clients": connections, "runs": anchors["pgbench"], "tps": pg_tps}} if pg_tps else {}),
        },
        "routes": {key: dict(r, label=labels[key], ratio_to_bare=r["rate"] / bare_rate,
                             **({"ratio_to_pgbench": r["rate"] / pg_tps} if pg_tps else {}))
                   for key, r in results.items()},
        "peak_rss_mib": peak, "durable_acceptances": accepted, "targets": targets,
        "loadavg_after": os.getloadavg(), "elapsed_s": time.time() - started,
    })
    if options.core_json and os.path.exists(options.core_json):
        with open(options.core_json) as f:
            figures["signing_core"] = json.load(f)
    if options.json:
        os.makedirs(os.path.dirname(os.path.abspath(options.json)), exist_ok=True)
        with open(options.json, "w") as f:
            json.dump(figures, f, indent=1)
        print(f"every figure: {options.json}")


if __name__ == "__main__":
    sys.exit(main())
