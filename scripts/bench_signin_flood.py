#!/usr/bin/env python3
"""Acceptances under a sign-in flood (issue 12): wrk drives POST /v1/acceptances once on a quiet
server and once while 64 clients send wrong passwords nonstop to the acceptance page's sign-in
form, and prints both beside each other with the ratio.

Usage: scripts/bench_signin_flood.py [--binary .build-release/release/invitelink] [--seconds 8] [--flooders 64]
                                     [--customers 60000] [--password-hashing-threads N] [--password-hashing-queue N]

Acceptances are bench_http.py's: one link of a reseller, accepted by a different customer with
its own credential on every request (customers inserted straight into SQLite), a fresh link and
a fresh set of customers for each run, so every acceptance is a first one. The flooders are
threads of this process on keep-alive connections: each GETs the acceptance page once for its
pre-session cookie and CSRF token, then POSTs /invitations/sign-in with a wrong password until
the run ends. Each keeps a few random unknown emails, each retired after 4 attempts (the lock
takes 5), and now and then uses a real user's email (those lock: 429). The server runs with
`--trusted-proxy-header X-Forwarded-For` and every attempt carries a random address in that
header, so the per-client-address throttle never answers for the hashing pool: every attempt is
either a password hash (200, "not right") or turned away by a full pool (503). Everything runs
on 127.0.0.1 in a temporary directory and is stopped at the end; the flood stops by itself.

Before both runs, on the quiet server, it also times the sign-in form's answer to a wrong password
for a real email and for an unknown one (issue 12: no telling which emails exist by the answer's
time): --timing-samples real customer admins (made with `customers add`, each email tried once so
none locks) and as many fresh unknown emails, alternated, one attempt at a time, each from its own
random X-Forwarded-For address, after 2 unknown-email attempts that are not counted (warm-up).

Targets (printed, not enforced): p99 of acceptances under the flood < 50 ms, and their rate
>= 0.8x the quiet run's; median answer times for an unknown email and a real one differ by < 10 %.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_http import accept_script, free_port, run, wait_healthy, wrk  # noqa: E402

P99_TARGET_MS = 50
RATIO_TARGET = 0.8
TIMING_TARGET = 0.10  # median answer times for an unknown and a real email differ by less than this
ATTEMPTS_PER_EMAIL = 4  # the fifth failure within 15 minutes locks an email
STATUSES = (200, 403, 429, 503)  # anything else is counted as "other", a failed connection as "error"


def add_customers(database, prefix, count, now):
    """Customers with a global-admin credential each, hashed as `credentials create` does; their secrets."""
    secrets_out = []
    db = sqlite3.connect(database)
    with db:
        for n in range(count):
            cid = f"{prefix}-{n}"
            secret = f"cred_{cid}." + secrets.token_urlsafe(32)
            secrets_out.append(secret)
            db.execute("INSERT INTO customers (id, name, domain, created_at) VALUES (?, ?, ?, ?)", (cid, f"Customer {cid}", f"{cid}.example", now))
            db.execute("INSERT INTO credentials (id, customer_id, role, secret_hash, created_at) VALUES (?, ?, 'global-admin', ?, ?)",
                       (f"cred_{cid}", cid, hashlib.sha256(secret.encode()).digest(), now))
    db.close()
    return secrets_out


def open_sign_in_form(port, token):
    """A keep-alive connection that GOT the acceptance page; with its pre-session cookie and CSRF token."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/invitations/accept?token=" + urllib.parse.quote(token))
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    if response.status != 200 or not cookie.startswith("invitelink_presession=") or not csrf:
        raise RuntimeError(f"GET /invitations/accept answered {response.status}, cookie {cookie!r}")
    return connection, cookie, csrf.group(1)


def random_address(rng):
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def time_wrong_passwords(port, token, real_emails, forwarded_for):
    """Sequential wrong-password sign-ins, a real email (each once) then a fresh unknown one, alternated.
    Returns ({"real": [ms…], "unknown": [ms…]}, [problems]); every answer should be 200 with the same error."""
    rng = random.Random(12)
    connection, cookie, csrf = open_sign_in_form(port, token)
    times, problems, errors = {"real": [], "unknown": []}, [], set()
    warm_up = [("warm-up", f"nobody-{secrets.token_hex(6)}@timing.example") for _ in range(2)]
    pairs = [(kind, email) for real in real_emails
             for kind, email in (("real", real), ("unknown", f"nobody-{secrets.token_hex(6)}@timing.example"))]
    for kind, email in warm_up + pairs:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        if forwarded_for:
            headers["X-Forwarded-For"] = random_address(rng)
        body = urllib.parse.urlencode({"token": token, "csrf": csrf, "email": email, "password": "wrong-" + secrets.token_urlsafe(12)})
        sent = time.monotonic()
        connection.request("POST", "/invitations/sign-in", body=body, headers=headers)
        response = connection.getresponse()
        page = response.read().decode()
        took = (time.monotonic() - sent) * 1000
        if response.will_close:
            connection.close()
        error = re.search(r'<p class="error" role="alert">([^<]*)</p>', page)
        error = error.group(1) if error else None
        if response.status != 200 or not error or "not right" not in error:
            problems.append(f"{kind} {email}: {response.status} {error or page[:200]!r}")
        if kind in times:
            times[kind].append(took)
            errors.add(error)
    if len(errors) > 1:
        problems.append(f"the two kinds got different texts: {sorted(map(str, errors))}")
    connection.close()
    return times, problems


class Flood:
    """`count` threads posting wrong passwords to the sign-in form until stop() or `deadline`."""

    def __init__(self, port, token, real_emails, count, deadline, forwarded_for):
        self.port, self.token, self.real_emails = port, token, real_emails
        self.deadline, self.forwarded_for = deadline, forwarded_for
        self.stopping = threading.Event()
        self.ready = threading.Barrier(count + 1)
        # One counter list per thread, written only by its thread: [200, 403, 429, 503, other, error].
        self.counts = [[0] * (len(STATUSES) + 2) for _ in range(count)]
        # Per thread: (time the answer came, seconds it took), for the flood run's window.
        self.latencies = [[] for _ in range(count)]
        self.failures = []
        self.threads = [threading.Thread(target=self.flooder, args=(n,), daemon=True) for n in range(count)]

    def start(self):
        for thread in self.threads:
            thread.start()
        try:
            self.ready.wait(timeout=30)
        except threading.BrokenBarrierError:
            self.stop()
            raise SystemExit(f"a flooder could not start: {self.failures[0] if self.failures else 'not ready in 30 s'}")

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=15)

    def totals(self):
        return [sum(column) for column in zip(*self.counts)]

    def latency_ms(self, start, end, percent):
        """The percentile of the answers' times that came between two time.monotonic() readings."""
        times = sorted(took for samples in self.latencies for at, took in list(samples) if start <= at <= end)
        return times[min(len(times) - 1, int(len(times) * percent / 100))] * 1000 if times else float("nan")

    def flooder(self, n):
        rng = random.Random(n)
        counts, latencies = self.counts[n], self.latencies[n]
        try:
            connection, cookie, csrf = open_sign_in_form(self.port, self.token)
        except Exception as error:  # reported by start()
            self.failures.append(error)
            self.ready.abort()
            return
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        emails = {}  # email -> attempts so far
        try:
            self.ready.wait(timeout=30)
        except threading.BrokenBarrierError:
            return
        while not self.stopping.is_set() and time.time() < self.deadline:
            if self.real_emails and rng.random() < 1 / 32:
                email = rng.choice(self.real_emails)
            else:
                while len(emails) < 8:
                    emails[f"nobody-{secrets.token_hex(6)}@flood.example"] = 0
                email = rng.choice(list(emails))
                emails[email] += 1
                if emails[email] >= ATTEMPTS_PER_EMAIL:
                    del emails[email]
            if self.forwarded_for:
                headers["X-Forwarded-For"] = random_address(rng)
            body = urllib.parse.urlencode({"token": self.token, "csrf": csrf, "email": email, "password": secrets.token_urlsafe(12)})
            try:
                sent = time.monotonic()
                connection.request("POST", "/invitations/sign-in", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                answered = time.monotonic()
                latencies.append((answered, answered - sent))
                status = response.status
                counts[STATUSES.index(status) if status in STATUSES else len(STATUSES)] += 1
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                counts[-1] += 1
                connection.close()
                time.sleep(0.01)
        connection.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build-release/release/invitelink")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--flooders", type=int, default=64)
    parser.add_argument("--customers", type=int, default=60000, help="customers per run (each accepts once)")
    parser.add_argument("--password-hashing-threads", type=int, help="passed to serve (default: serve's own)")
    parser.add_argument("--password-hashing-queue", type=int, help="passed to serve (default: serve's own)")
    parser.add_argument("--timing-samples", type=int, default=100, help="real emails (and as many unknown ones) timed on the quiet server")
    options = parser.parse_args()
    binary = os.path.abspath(options.binary)

    work = tempfile.mkdtemp(prefix="invitelink-flood-")
    database = os.path.join(work, "db.sqlite")
    env = dict(os.environ, INVITELINK_KEYS_DIR=os.path.join(work, "Keys"), INVITELINK_DATABASE="sqlite:" + database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["INVITELINK_PUBLIC_URL"] = base

    run(binary, "keys", "rotate", "--alg", "ed25519", env=env)
    run(binary, "partners", "add", "--id", "r1", "--name", "Bench Reseller", "--kind", "reseller", env=env)
    run(binary, "partners", "add", "--id", "p1", "--name", "Bench Provider", "--kind", "provider", env=env)
    run(binary, "partners", "connect", "--reseller", "r1", "--provider", "p1", env=env)
    reseller = json.loads(run(binary, "credentials", "create", "--partner", "r1", "--role", "admin-agent", "--json", env=env))["secret"]
    real_emails = []
    for n in range(4):  # real users, whose emails the flooders try now and then
        email = f"admin@real-{n}.example"
        run(binary, "customers", "add", "--id", f"real-{n}", "--name", f"Real {n}", "--domain", f"real-{n}.example", "--admin-email", email, env=env)
        real_emails.append(email)
    timing_emails = []  # real users, each tried once by the timing check (and never by the flooders)
    for n in range(options.timing_samples):
        email = f"admin@timing-{n}.example"
        run(binary, "customers", "add", "--id", f"timing-{n}", "--name", f"Timing {n}", "--domain", f"timing-{n}.example",
            "--admin-email", email, env=env)
        timing_emails.append(email)
    now = int(time.time())
    creds_files = {}
    for run_name in ("quiet", "flood"):
        creds_files[run_name] = os.path.join(work, f"{run_name}.txt")
        with open(creds_files[run_name], "w") as f:
            f.write("\n".join(add_customers(database, run_name, options.customers, now)) + "\n")

    serve_help = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    command = [binary, "serve", "--port", str(port), "--log-level", "warning"]
    notes = []
    forwarded_for = "--trusted-proxy-header" in serve_help
    if forwarded_for:
        command += ["--trusted-proxy-header", "X-Forwarded-For"]
    else:
        notes.append("this binary has no serve --trusted-proxy-header: the flood came from one address, "
                     "so the per-address throttle answered most of it 429 and the hashing pool was not the limit")
    for flag in ("password_hashing_threads", "password_hashing_queue"):
        value = getattr(options, flag)
        if value is not None:
            name = "--" + flag.replace("_", "-")
            if name not in serve_help:
                raise SystemExit(f"this binary's serve has no {name}")
            command += [name, str(value)]

    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    flood = None
    try:
        wait_healthy(base)

        def issue():
            request = urllib.request.Request(base + "/v1/invitations", data=b'{"provider_id":"p1","dap":true,"expires_in":86400}',
                                             headers={"Authorization": "Bearer " + reseller, "Content-Type": "application/json"})
            with urllib.request.urlopen(request) as response:
                return json.load(response)["token"]

        quiet_lua = accept_script(os.path.join(work, "quiet.lua"), creds_files["quiet"], issue())
        flood_lua = accept_script(os.path.join(work, "flood.lua"), creds_files["flood"], issue())
        sign_in_token = issue()

        timing, timing_problems = time_wrong_passwords(port, sign_in_token, timing_emails, forwarded_for)
        quiet = wrk(base + "/v1/acceptances", options.seconds, server.pid, quiet_lua)

        flood = Flood(port, sign_in_token, real_emails, options.flooders, time.time() + options.seconds + 30, forwarded_for)
        flood.start()
        time.sleep(1)  # the flood at full strength before wrk starts
        counts_before, self_before, started = flood.totals(), resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        flooded = wrk(base + "/v1/acceptances", options.seconds, server.pid, flood_lua)
        counts_after, self_after, ended = flood.totals(), resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        elapsed = ended - started
        flood.stop()
        flood_answers, flood = flood, None

        db = sqlite3.connect(database)
        accepted = db.execute("SELECT COUNT(*) FROM acceptances").fetchone()[0]
        db.close()
    finally:
        if flood is not None:
            flood.stop()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)

    pool = ", ".join(f"{flag.replace('_', '-')} {getattr(options, flag)}" for flag in ("password_hashing_threads", "password_hashing_queue")
                     if getattr(options, flag) is not None) or "serve's defaults"
    print(f"Acceptances under a sign-in flood (ed25519 keys, SQLite WAL synchronous=FULL, wrk -t1 -c32 -d{options.seconds}s "
          f"on POST /v1/acceptances; {options.flooders} flooders; hashing pool: {pool})")
    print(f"{'run':<30}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'CPU µs/req: server':>20}{'wrk':>6}{'server cores':>14}")
    for name, (rate, p50, p99, non2xx, cpu, wrk_cpu) in (("quiet", quiet), ("under the sign-in flood", flooded)):
        print(f"{name:<30}{rate:>10,.0f}{p50:>9.2f}{p99:>9.2f}{non2xx:>9}{cpu:>20.0f}{wrk_cpu:>6.0f}{cpu * rate / 1e6:>14.2f}")
    ratio, flood_p99 = flooded[0] / quiet[0], flooded[2]
    print(f"{'ratio flood / quiet':<30}{ratio:>10.2f}{flood_p99 / quiet[2]:>18.2f}")
    print(f"target: flood rate >= {RATIO_TARGET}x quiet: {ratio:.2f}x, {'met' if ratio >= RATIO_TARGET else 'not met'}; "
          f"flood p99 < {P99_TARGET_MS} ms: {flood_p99:.1f} ms, {'met' if flood_p99 < P99_TARGET_MS else 'not met'}")
    per_second = [(after - before) / elapsed for before, after in zip(counts_before, counts_after)]
    labels = ["200 wrong password (one hash each)", "403", "429 locked", "503 hashing pool full", "other", "connection errors"]
    answers = "; ".join(f"{label} {rate:,.0f}" for label, rate in zip(labels, per_second) if rate or label[0] in "25")
    print(f"the flood's answers per second during the flood run: {answers}; total {sum(per_second):,.0f}, "
          f"p50 {flood_answers.latency_ms(started, ended, 50):.0f} ms, p99 {flood_answers.latency_ms(started, ended, 99):.0f} ms")
    flooders_cpu = (self_after.ru_utime + self_after.ru_stime - self_before.ru_utime - self_before.ru_stime) / elapsed
    print(f"the flooders' own CPU (this Python process): {flooders_cpu:.2f} cores; the server CPU per acceptance under the flood includes the flood's")
    print(f"durable acceptances in the database: {accepted}")
    if timing["real"] and timing["unknown"]:
        def p90(values):
            return sorted(values)[min(len(values) - 1, int(len(values) * 0.9))]

        real_median, unknown_median = statistics.median(timing["real"]), statistics.median(timing["unknown"])
        difference = abs(unknown_median - real_median) / real_median  # of the real email's median
        print(f"wrong-password sign-ins on the quiet server, one at a time, {len(timing['real'])} real emails and "
              f"{len(timing['unknown'])} unknown ones alternated: real median {real_median:.1f} ms, p90 {p90(timing['real']):.1f} ms; "
              f"unknown median {unknown_median:.1f} ms, p90 {p90(timing['unknown']):.1f} ms")
        print(f"target: medians for an unknown and a real email differ by < {TIMING_TARGET:.0%}: {difference:.1%} "
              f"(unknown {unknown_median - real_median:+.1f} ms), {'met' if difference < TIMING_TARGET and not timing_problems else 'not met'}")
    for problem in timing_problems[:10]:
        print("timing check answer not as expected: " + problem)
    if len(timing_problems) > 10:
        print(f"timing check: {len(timing_problems) - 10} more answers not as expected")
    for note in notes:
        print("note: " + note)


if __name__ == "__main__":
    sys.exit(main())
