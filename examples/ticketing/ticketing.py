#!/usr/bin/env python3
"""Creates tickets for new High+ GuardDuty findings and finding groups, via the gdlens GraphQL API.

Pages through finding groups and findings (severity High and Critical) updated since a saved
watermark, opens one ticket per group and one per finding not covered by a ticketed group in a
stand-in ticket system (a local JSON file), and links each ticket back with `linkTicket`.
Idempotent: running it twice creates no duplicate ticket and no duplicate link.

Python 3 standard library only.

    python3 examples/ticketing/ticketing.py --url http://127.0.0.1:8080 --token "$GDLENS_TOKEN" \
        --state ticketing-state.json --tickets tickets.json
"""
import argparse
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request

SYSTEM = "standin"
HIGH_PLUS = ["HIGH", "CRITICAL"]

GROUPS_QUERY = """
query Groups($filter: FindingFilter, $after: String) {
  findingGroups(filter: $filter, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id title severity severityLabel lastSeen findings { id } }
  }
}"""

FINDINGS_QUERY = """
query Findings($filter: FindingFilter, $after: String) {
  findings(filter: $filter, first: 200, after: $after, orderBy: {field: UPDATED_AT, direction: ASC}) {
    pageInfo { hasNextPage endCursor }
    nodes { id title type severity severityLabel accountId region updatedAt group { id } }
  }
}"""

LINK = """
mutation Link($ids: [ID!], $group: ID, $key: String!, $url: String) {
  linkTicket(findingIds: $ids, groupId: $group, system: "standin", key: $key, url: $url) { findingId key }
}"""


class ApiError(Exception):
    """A GraphQL or HTTP error, with its code."""


def graphql(url, token, query, variables):
    body = json.dumps({"query": query, "variables": variables}).encode()
    req = urllib.request.Request(url.rstrip("/") + "/graphql", data=body, method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            payload = json.load(resp)
    except urllib.error.HTTPError as e:
        raise ApiError(f"HTTP {e.code}: {e.read().decode(errors='replace')[:300]}") from None
    if payload.get("errors"):
        err = payload["errors"][0]
        raise ApiError(f"{err.get('extensions', {}).get('code', 'ERROR')}: {err.get('message')}")
    return payload["data"]


def pages(url, token, query, field, variables):
    after = None
    while True:
        data = graphql(url, token, query, dict(variables, after=after))[field]
        yield from data["nodes"]
        if not data["pageInfo"]["hasNextPage"]:
            return
        after = data["pageInfo"]["endCursor"]


def load_json(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def save_json(path, value):
    """Atomic write: a crash never leaves a half-written file."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


class TicketSystem:
    """The stand-in ticket system: tickets in a JSON file, one per subject (group or finding)."""

    def __init__(self, path):
        self.path = path
        self.data = load_json(path, {"next": 1, "tickets": {}, "subjects": {}})

    def ensure(self, subject, title, body):
        """The ticket key for `subject`, creating the ticket once. Returns (key, created)."""
        if subject in self.data["subjects"]:
            return self.data["subjects"][subject], False
        key = f"SEC-{self.data['next']}"
        self.data["next"] += 1
        self.data["tickets"][key] = {"subject": subject, "title": title, "body": body}
        self.data["subjects"][subject] = key
        save_json(self.path, self.data)  # before linking: a crash never loses a created ticket
        return key, True


def run(args):
    state = load_json(args.state, {})
    since = state.get("updatedSince")
    flt = {"severityLabels": HIGH_PLUS}
    if since:
        flt["updatedSince"] = since
    tickets = TicketSystem(args.tickets)
    stats = {"created": 0, "linked": 0, "groups": 0, "findings": 0}
    covered = set()
    for g in pages(args.url, args.token, GROUPS_QUERY, "findingGroups", {"filter": flt}):
        if g["severityLabel"] not in HIGH_PLUS:
            continue
        stats["groups"] += 1
        key, created = tickets.ensure(f"group:{g['id']}", g["title"], json.dumps(g["findings"]))
        stats["created"] += created
        graphql(args.url, args.token, LINK, {"ids": None, "group": g["id"], "key": key,
                                               "url": f"{args.ticket_url}/{key}"})
        stats["linked"] += 1
        covered.update(f["id"] for f in g["findings"])
    watermark = since
    for f in pages(args.url, args.token, FINDINGS_QUERY, "findings", {"filter": flt}):
        stats["findings"] += 1
        watermark = max(watermark or f["updatedAt"], f["updatedAt"])
        if f["id"] in covered:
            continue
        key, created = tickets.ensure(f"finding:{f['id']}", f"{f['severityLabel']} {f['type']} in {f['accountId']}/{f['region']}",
                                      f["title"])
        stats["created"] += created
        graphql(args.url, args.token, LINK, {"ids": [f["id"]], "group": None, "key": key,
                                               "url": f"{args.ticket_url}/{key}"})
        stats["linked"] += 1
    # The watermark is inclusive (updatedAt >= since): the last finding is seen again next run
    # and skipped as already ticketed, so nothing updated in the same millisecond is missed.
    if watermark:
        state["updatedSince"] = watermark
    save_json(args.state, state)
    return stats


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default=os.environ.get("GDLENS_URL", "http://127.0.0.1:8080"))
    p.add_argument("--token", default=os.environ.get("GDLENS_TOKEN"))
    p.add_argument("--state", default="ticketing-state.json", help="watermark file")
    p.add_argument("--tickets", default="tickets.json", help="the stand-in ticket system's file")
    p.add_argument("--ticket-url", default="https://tickets.example.invalid/browse")
    args = p.parse_args(argv)
    try:
        stats = run(args)
    except ApiError as e:
        print(f"ticketing: {e}", file=sys.stderr)
        return 1
    print(json.dumps(stats, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
