#!/usr/bin/env python3
"""How soon a batch of changed findings is visible: commit a batch through the one write path,
then time the uncached reads a dashboard makes next.

Each round `setTriage`s BATCH findings (alternately ACKNOWLEDGED and back to NEW; the mutation
returns once the store committed and the new snapshot is published), then sends, one after the
other, the summary, a page of 50 by PRIORITY, a page by UPDATED_AT and findingGroups(first: 20),
each with a severity floor no earlier request used (no cache answers), and checks that the
change shows: the count of findings in the new triage state moved by BATCH. Prints per-query
milliseconds from the mutation's answer to each read's answer (the reads run in sequence, so the
later ones include the earlier ones' time: "visible" is the last column).

Usage: bench/serve/visibility.py URL [ROUNDS] [BATCH] [TOKEN]
  URL   e.g. http://127.0.0.1:18095/graphql
"""

import json
import statistics
import sys
import time
import urllib.request

URL = "http://127.0.0.1:18095/graphql"
ROUNDS, BATCH, TOKEN = 10, 1000, ""


def gql(query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(URL, body, {"content-type": "application/json"})
    if TOKEN:
        req.add_header("authorization", "Bearer " + TOKEN)
    with urllib.request.urlopen(req, timeout=120) as r:
        out = json.load(r)
    if out.get("errors"):
        raise SystemExit(f"GraphQL error: {out['errors']}")
    return out["data"]


def batch_ids():
    ids, after = [], None
    while len(ids) < BATCH:
        page = gql(
            "query($after: String) { findings(first: 500, after: $after, orderBy: {field: UPDATED_AT},"
            " filter: {triageStatus: [NEW]}) { pageInfo { endCursor } nodes { id } } }",
            {"after": after},
        )["findings"]
        ids += [n["id"] for n in page["nodes"]]
        after = page["pageInfo"]["endCursor"]
    return ids[:BATCH]


READS = {
    "summary": "query($s: Float) { summary(filter: {severityMin: $s}) { total bySeverity { low medium high critical }"
    " accountsAffected resourcesAffected findingGroups topFindingTypes(limit: 10) { type count }"
    " topResources(limit: 10) { resourceKey count } leastFrequentTypes(limit: 10) { type count } } }",
    "page PRIORITY": "query($s: Float) { findings(first: 50, filter: {severityMin: $s}, orderBy: {field: PRIORITY})"
    " { totalCount nodes { id title severity } } }",
    "page UPDATED_AT": "query($s: Float) { findings(first: 50, filter: {severityMin: $s}, orderBy: {field: UPDATED_AT})"
    " { totalCount nodes { id title severity } } }",
    "groups": "query($s: Float) { findingGroups(first: 20, filter: {severityMin: $s}) { totalCount nodes { id score } } }",
}


def dashboard_reads(url, floor):
    """Sends the four reads to `url` one after the other, each with a new severity floor (so no
    cache answers); returns (name, ms since the call) after each."""
    global URL
    URL, t0, out = url, time.perf_counter(), []
    for i, (name, q) in enumerate(READS.items()):
        gql(q, {"s": 1.0 + (floor + i) / 1e6})
        out.append((name, (time.perf_counter() - t0) * 1000))
    return out


def acknowledged():
    return gql("{ findings(first: 1, filter: {triageStatus: [ACKNOWLEDGED]}) { totalCount } }")["findings"]["totalCount"]


def main():
    ids = batch_ids()
    timings = {name: [] for name in READS}
    floor = 0
    for r in range(ROUNDS):
        status = "ACKNOWLEDGED" if r % 2 == 0 else "NEW"
        before = acknowledged()
        t0 = time.perf_counter()
        gql("mutation($ids: [ID!], $st: TriageStatus!) { setTriage(findingIds: $ids, status: $st) { status } }",
            {"ids": ids, "st": status})
        committed = time.perf_counter()
        for name, q in READS.items():
            floor += 1
            gql(q, {"s": 1.0 + floor / 1e6})
            timings[name].append((time.perf_counter() - committed) * 1000)
        after = acknowledged()
        expected = before + (len(ids) if status == "ACKNOWLEDGED" else -len(ids))
        if after != expected:
            raise SystemExit(f"round {r}: {after} acknowledged, expected {expected}")
        print(f"round {r}: setTriage of {len(ids)} took {(committed - t0) * 1000:.0f} ms; "
              + ", ".join(f"{n} +{timings[n][-1]:.0f}" for n in READS) + " ms after commit", flush=True)
    print("median ms after commit:", ", ".join(f"{n} {statistics.median(v):.0f}" for n, v in timings.items()))
    print("max ms after commit:   ", ", ".join(f"{n} {max(v):.0f}" for n, v in timings.items()))


if __name__ == "__main__":
    args = sys.argv[1:]
    URL = args[0] if args else URL
    ROUNDS = int(args[1]) if len(args) > 1 else ROUNDS
    BATCH = int(args[2]) if len(args) > 2 else BATCH
    TOKEN = args[3] if len(args) > 3 else TOKEN
    main()
