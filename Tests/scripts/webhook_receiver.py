#!/usr/bin/env python3
"""A webhook receiver for Tests/scripts/webhooks.sh (DESIGN.md §9, Standard Webhooks 1.0).

Listens on 127.0.0.1 on a free port (written to --port-file once it listens) and records every
request as one JSON line in --log:

    {"path", "webhook_id", "timestamp_header", "signatures" (how many in webhook-signature),
     "type", "timestamp", "data" (the body's members), "verified": {LABEL: true|false, …},
     "errors": {LABEL: why it did not verify, …}, "arrived" (Unix time, float), "answered" (the
     status it sends), "count" (requests of this webhook-id to this kind of path so far, this
     one included), "cut_short" (the body ended before its Content-Length: the sender died)}

Every request is verified with the off-the-shelf `standardwebhooks` library
(`Webhook(secret).verify(body, headers)`), once for each secret in --secrets-file, separately:
`verified` says which secrets it verifies with. The file holds lines `LABEL SECRET` and is read
again on every request, so a test can add the new secret after a rotation while this runs.
Nothing here computes a signature itself.

How it answers depends on the first segment of the path:

    /ok/…      200 at once
    /flaky/…   500 for the first 3 requests of each webhook-id (`?fail=N` for N), then 200
    /dead/…    500, always
    /slow/…    200 after 1 s (`?ms=N` for N milliseconds)
    other      404

    webhook_receiver.py --log FILE --port-file FILE --secrets-file FILE
"""

import argparse
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--secrets-file", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    lock = threading.Lock()
    seen = {}  # (mode, webhook-id) → requests so far
    log = open(args.log, "a", buffering=1, encoding="utf-8")

    def secrets():
        out = []
        try:
            with open(args.secrets_file, encoding="utf-8") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2:
                        out.append((parts[0], parts[1]))
        except FileNotFoundError:
            pass
        return out

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def answer(self, status):
            body = b"{}" if status < 300 else b'{"error":"test receiver"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.answer(200 if self.path == "/health" else 404)

        def do_POST(self):
            arrived = time.time()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            mode = url.path.strip("/").split("/")[0]
            headers = {k.lower(): v for k, v in self.headers.items()}
            webhook_id = headers.get("webhook-id")

            verified, errors = {}, {}
            for label, secret in secrets():
                try:
                    Webhook(secret).verify(body, headers)
                    verified[label] = True
                except Exception as error:  # the library's verification error, or a malformed header
                    verified[label] = False
                    errors[label] = f"{type(error).__name__}: {error}"
            try:
                event = json.loads(body)
            except ValueError:
                event = {}

            with lock:
                count = seen.get((mode, webhook_id), 0) + 1
                seen[(mode, webhook_id)] = count
            if mode == "ok":
                status, delay = 200, 0
            elif mode == "flaky":
                status, delay = (500 if count <= int(query.get("fail", ["3"])[0]) else 200), 0
            elif mode == "dead":
                status, delay = 500, 0
            elif mode == "slow":
                status, delay = 200, int(query.get("ms", ["1000"])[0]) / 1000
            else:
                status, delay = 404, 0
            record = {
                "path": self.path,
                "webhook_id": webhook_id,
                "timestamp_header": headers.get("webhook-timestamp"),
                "signatures": len((headers.get("webhook-signature") or "").split()),
                "type": event.get("type") if isinstance(event, dict) else None,
                "timestamp": event.get("timestamp") if isinstance(event, dict) else None,
                "data": event.get("data") if isinstance(event, dict) else None,
                "verified": verified,
                "errors": errors,
                "arrived": arrived,
                "answered": status,
                "count": count,
                # Fewer bytes than Content-Length: the sender died mid-request (kill -9).
                "cut_short": len(body) < length,
            }
            # Recorded on arrival: a request the sender stops waiting for still arrived.
            with lock:
                log.write(json.dumps(record, sort_keys=True) + "\n")
            if delay:
                time.sleep(delay)
            try:
                self.answer(status)
            except OSError:
                pass  # the sender gave up waiting

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port_file = args.port_file + ".tmp"
    with open(port_file, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
