"""Client search over 1,000 clients (quality bar: ≤ 30 ms per search), and the ICD-10-CM
search over the full code set, in CPython.

    python benchmarks/search.py [--clients 1000] [--runs 200]

Times ``ClientIndex.build`` (once, then kept until a record it is made from changes:
``services.client_list``) and ``ClientIndex.search`` for a mix of
queries with and without status/provider filters. Pyodide in the browser is typically 2-4x
slower than CPython: compare the figure printed with the 30 ms budget with that margin.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "site" / "py"))

from medex.intake import Client, ClientStatus
from medex.services.intake import ClientIndex

FIRST = ["Ana", "Bob", "Chloé", "Dev", "Eve", "Farid", "Gus", "Hana", "Ivan", "Jo", "Karl"]
LAST = ["López", "Smith", "O'Neil", "Nguyen", "Schmidt", "Patel", "Brown", "Kim", "García"]
QUERIES = ["lop", "smith", "an", "o neil", "zz", "kim h", "eve p", "", "nguyen", "garc ana"]


def clients(n: int) -> list[Client]:
    rng = random.Random(1)
    statuses = list(ClientStatus)
    return [
        Client(
            first_name=rng.choice(FIRST),
            last_name=f"{rng.choice(LAST)}-{rng.choice(LAST)}" if i % 7 == 0 else rng.choice(LAST),
            date_of_birth=date(1940 + i % 60, 1 + i % 12, 1 + i % 28),
            sex="female" if i % 2 else "male",
            status=rng.choice(statuses),
            provider_id=f"p{i % 12}",
        )
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    people = clients(args.clients)

    start = time.perf_counter()
    for _ in range(20):
        index = ClientIndex.build(people)
    build_ms = (time.perf_counter() - start) / 20 * 1000

    timings = []
    for run in range(args.runs):
        query = QUERIES[run % len(QUERIES)]
        status = "active" if run % 3 == 0 else ""
        provider = "p3" if run % 5 == 0 else ""
        start = time.perf_counter()
        index.search(query, status, provider)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    print(f"clients: {args.clients}")
    print(f"build index: {build_ms:.2f} ms")
    print(
        f"search: median {timings[len(timings) // 2]:.3f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:.3f} ms, max {timings[-1]:.3f} ms "
        f"(budget 30 ms)"
    )
    icd10_search()


# Words practitioners type on a referral: everyday names (medex.icd10_terms), descriptions
# with linking words, code prefixes, and a miss.
ICD10_QUERIES = [
    "knee replacement",
    "right knee replacement",
    "heart attack",
    "stroke",
    "low back pain",
    "type 2 diabetes",
    "Parkinson's",
    "COPD",
    "osteoporosis",
    "history of falls",
    "osteoarthritis of knee",
    "fracture knee",
    "Z96.6",
    "M17",
    "zzz",
]


def icd10_search() -> None:
    """The ICD-10-CM search over the full code set (built from the pinned wheel in .cache)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from buildtools.icd10_index import build_index, cached_wheel_path
    from medex.icd10 import Icd10Index

    wheel = cached_wheel_path()
    if not wheel.exists():
        print(f"icd10: {wheel} not downloaded (python3 build.py build): skipped")
        return
    index = Icd10Index.from_bytes(build_index(wheel))
    start = time.perf_counter()
    index.search("knee")  # builds the word-search structures, once
    prepare_ms = (time.perf_counter() - start) * 1000
    timings = []
    for _ in range(20):
        for query in ICD10_QUERIES:
            t0 = time.perf_counter()
            index.search(query, limit=25)
            timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    print(f"icd10: {len(index)} codes, first word search (prepare) {prepare_ms:.1f} ms")
    print(
        f"icd10 search: median {timings[len(timings) // 2]:.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:.2f} ms, max {timings[-1]:.2f} ms "
        "(CPython; Pyodide is typically 2-4x slower)"
    )


if __name__ == "__main__":
    main()
