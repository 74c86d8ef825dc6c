"""Emulator throughput on a 100,000-organisation store: GET by key and a filtered, ordered page.

Run: `.venv/bin/python bench/emulator.py [--accounts N] [--requests R] [--threads T]`.
Prints requests per second for each case and the store's size on disk.
"""

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cdms_api.emulator import Emulator  # noqa: E402

JSON = {"Accept": "application/json"}
PAGE_FILTER = {"$filter": "startswith(Name,'B') and NumberOfEmployees gt 50", "$orderby": "Name"}


def run(label, urls, threads):
    """Fetch every URL with `threads` clients (one keep-alive session each); returns a table row."""
    local = threading.local()

    def fetch(url):
        local.session = getattr(local, "session", None) or requests.Session()
        response = local.session.get(url, headers=JSON, timeout=30)
        assert response.status_code == 200, response.text
        return len(response.json()["d"].get("results", [1]))

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        rows = sum(pool.map(fetch, urls))
    elapsed = time.perf_counter() - started
    return label, len(urls), rows, elapsed, len(urls) / elapsed


def main():
    """Build the store, start the emulator, measure, print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.sqlite3")
        emu = Emulator(data_path=path)
        started = time.perf_counter()
        emu.store.seed_demo(args.accounts, seed=1, contacts_per_account=1)
        seeded = time.perf_counter() - started
        emu.start()
        keys = [r[0] for r in emu.store.select("SELECT AccountId FROM Account")]
        rng = random.Random(1)
        by_key = [f"{emu.service_root}/AccountSet(guid'{rng.choice(keys)}')" for _ in range(args.requests)]
        query = "&".join(f"{k}={v}" for k, v in PAGE_FILTER.items())
        pages = [f"{emu.service_root}/AccountSet?{query}"] * args.requests
        table = [run("GET by key", by_key, args.threads), run("filtered ordered page", pages, args.threads)]
        size = os.path.getsize(path) + sum(
            os.path.getsize(path + s) for s in ("-wal", "-shm") if os.path.exists(path + s)
        )
        counts = (emu.store.count("Account"), emu.store.count("Contact"))
        emu.stop()
    print(f"store: {counts[0]:,} accounts + {counts[1]:,} contacts, seeded in {seeded:.1f} s")
    print(f"store size on disk: {size / 1e6:.1f} MB; {args.threads} client threads, {os.cpu_count()} CPUs")
    print(f"{'case':<24}{'requests':>9}{'rows':>9}{'seconds':>9}{'req/s':>9}")
    for label, n, rows, elapsed, rate in table:
        print(f"{label:<24}{n:>9}{rows:>9}{elapsed:>9.2f}{rate:>9.0f}")


if __name__ == "__main__":
    main()
