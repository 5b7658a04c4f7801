"""How long a change takes to reach another replica's index (bench/postgres/run.sh).

Triage: set a finding's status through replica A, then poll replica B's index (a findings page
filtered by that status) until it counts it. Import: the CLI writes 1,000 new findings straight
to PostgreSQL; poll both replicas until their totalCount has grown by what the CLI inserted.
Times are from the writer's reply (or the CLI's exit) to the first poll that sees the change;
polls run back to back (each is one GraphQL request, about a millisecond).
"""
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request


sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "serve"))
from visibility import dashboard_reads  # noqa: E402


def gql(url, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        out = json.load(r)
    if out.get("errors"):
        raise SystemExit(f"{url}: {out['errors']}")
    return out["data"]


# Ordered by UPDATED_AT: what is timed is the change reaching the index, not the first
# PRIORITY page after it (which also rebuilds the scope view's priority order).
COUNT = "query($f: FindingFilter) { findings(filter: $f, first: 1, orderBy: {field: UPDATED_AT}) { totalCount } }"


def count(url, flt=None):
    if flt is None:
        # Every finding: active and archived, samples included.
        every = {"includeSamples": True}
        return count(url, every) + count(url, {**every, "archived": True})
    return gql(url, COUNT, {"f": flt})["findings"]["totalCount"]


def wait_for(url, flt, want, limit=30.0):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        if count(url, flt) >= want:
            return
    raise SystemExit(f"not seen on {url} within {limit} s")


def main():
    a, b, trials, binary, store_url, extra, cli_dir = sys.argv[1:8]
    trials = int(trials)
    ids = [
        e["id"]
        for e in gql(a, "{ findings(first: %d, orderBy: {field: UPDATED_AT}) { nodes { id } } }" % trials)[
            "findings"
        ]["nodes"]
    ]
    flt = {"triageStatus": ["IN_PROGRESS"]}
    base = count(b, flt)
    delays = []
    for i, fid in enumerate(ids):
        gql(
            a,
            "mutation($ids: [ID!]) { setTriage(findingIds: $ids, status: IN_PROGRESS) { findingId } }",
            {"ids": [fid]},
        )
        t0 = time.perf_counter()
        wait_for(b, flt, base + i + 1)
        delays.append((time.perf_counter() - t0) * 1000)
    delays.sort()
    print(
        f"triage on A seen in B's index: n={len(delays)}, p50 {statistics.median(delays):.1f} ms, "
        f"max {delays[-1]:.1f} ms"
    )

    # A dashboard in use on B: its view, orders and cells exist before the import arrives.
    dashboard_reads(b, 666_000)
    before_a, before_b = count(a), count(b)
    out = subprocess.run(
        [binary, "import", "--json", "--store-url", store_url, "--data-dir", cli_dir, extra],
        check=True,
        capture_output=True,
        text=True,
    )
    t0 = time.perf_counter()
    report = json.loads(out.stdout.strip().splitlines()[-1])
    inserted = report.get("inserted", report.get("new", 0))
    wait_for(a, None, before_a + inserted)
    ta = (time.perf_counter() - t0) * 1000
    wait_for(b, None, before_b + inserted)
    tb = (time.perf_counter() - t0) * 1000
    reads = dashboard_reads(b, 777_000)
    print(
        f"CLI import of {inserted} new findings seen in both replicas' indexes: "
        f"A {ta:.0f} ms, B {tb:.0f} ms after the CLI exited; then B's uncached dashboard reads, "
        "one after the other: " + ", ".join(f"{n} +{ms:.0f}" for n, ms in reads) + " ms"
    )


main()
