#!/usr/bin/env python3
"""A gdlens webhook receiver that opens tickets (ticket automation, docs/webhooks.md).

gdlens's `[[ticket_rules]]` send a `com.gdlens.ticket.requested` CloudEvent through a webhook when a
finding group reaches a severity (in an account of some criticality) or a finding matches a filter.
This receiver verifies the Standard Webhooks signature, opens one ticket in the stand-in ticket
system (a local JSON file, the same one `ticketing.py` writes) and answers `{"key": ..., "url": ...}`;
gdlens links that ticket to the findings (`linkTicket`). Idempotent on `webhook-id`: a retried
delivery gets the same ticket back, so a retry never opens a second ticket. Other events are
acknowledged and ignored.

Python 3 standard library only.

    python3 examples/ticketing/receiver.py --port 9000 --secret-file soc.secret --tickets tickets.json

`--port 0` picks a free port; the first line on stdout is `listening on HOST:PORT`.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ticketing import TicketSystem, save_json  # noqa: E402  (the stand-in ticket system)

TOLERANCE_SECONDS = 5 * 60


def verify(key, headers, body):
    """Standard Webhooks 1.0: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>."""
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    try:
        if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return False
    except ValueError:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        s.startswith("v1,") and hmac.compare_digest(s[3:], expected) for s in signatures.split()
    )


def make_handler(key, tickets_path, base_url, fail_after_create):
    state = {"failures_left": fail_after_create}

    class Handler(BaseHTTPRequestHandler):
        def reply(self, status, value):
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not verify(key, self.headers, body):
                return self.reply(401, {"error": "bad signature or timestamp"})
            event = json.loads(body)
            if event.get("type") != "com.gdlens.ticket.requested":
                return self.reply(200, {})
            msg_id = self.headers["webhook-id"]
            system = TicketSystem(tickets_path)
            messages = system.data.setdefault("messages", {})
            if msg_id in messages:  # a retry: the same ticket again
                key_ = messages[msg_id]
            else:
                data = event.get("data", {})
                subject = f"{data.get('rule')}:{event.get('subject')}"
                key_, _ = system.ensure(subject, data.get("title", ""), json.dumps(data)[:2000])
                messages[msg_id] = key_
                save_json(tickets_path, system.data)
            if state["failures_left"] > 0:
                # Testing: the ticket exists but the reply is lost, as when this process dies
                # mid-reply; gdlens must retry and get the same ticket back.
                state["failures_left"] -= 1
                return self.reply(500, {"error": "simulated failure after creating the ticket"})
            self.reply(200, {"key": key_, "url": base_url + key_})

        def log_message(self, fmt, *args):
            sys.stderr.write("receiver: " + fmt % args + "\n")

    return Handler


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--secret-file", help="file with the whsec_ secret (else $GDLENS_WEBHOOK_SECRET)")
    p.add_argument("--tickets", default="tickets.json", help="the stand-in ticket system's file")
    p.add_argument("--base-url", default="https://tickets.example/browse/")
    p.add_argument("--fail-after-create", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.secret_file:
        with open(args.secret_file) as f:
            secret = f.read().strip()
    else:
        secret = os.environ.get("GDLENS_WEBHOOK_SECRET", "").strip()
    if not secret.startswith("whsec_"):
        sys.exit("expected a whsec_ secret (--secret-file or GDLENS_WEBHOOK_SECRET)")
    key = base64.b64decode(secret[len("whsec_"):])
    server = HTTPServer(
        (args.host, args.port),
        make_handler(key, args.tickets, args.base_url, args.fail_after_create),
    )
    print(f"listening on {server.server_address[0]}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
