"""Width benchmark: what `$select` saves on records at the CRM's real width.

Run: .venv/bin/python bench/width.py [--rows 100000] [--latency-ms 20] [--steps pages,import,celery,follow]
                                    [--modes select,whole]

Every step runs twice, with `$select` (the default) and without (`CDMS_SELECT=false`: whole
records, every attribute and navigation link the emulator serves), so the difference is what
`$select` saves. DATABASE_URL (or `--database-url`) chooses the database, emptied before each
run (else a fresh SQLite file); CELERY_BROKER_URL the broker.

1. pages: the first ten pages (50 records each) of AccountSet, ContactSet, and ContactSet with
   its organisations expanded (what `select_related("organisation")` asks), from a small emulator
   seeded with 500 demo accounts and a contact each: JSON bytes per page whole and with the
   `$select` the sync layer sends, the parse time per page (`json.loads`, median of 20), and two
   floors for the selected page, computed from the whole records: "stored attributes alone" is
   the same page with each record reduced to the attributes some model column stores (key,
   CreatedOn, ModifiedOn, VersionNumber and the mapped ones: exactly what is selected, without
   the `__metadata` the CRM adds to every record); "mapped fields alone" keeps only the
   attributes of the mapping's own fields (no key, no system attributes). Both are encoded as the
   emulator encodes (Python's `json.dumps`), so the ratios compare like with like. The "2016
   width" rows add what the 2016 Data Hub mapped beyond today's mappings, as a wider mapping would.
2. import: `cdms_import --full --entity Account --workers 4` in one process, rows/s.
3. celery: `cdms_import --celery --full --entity Account` on 2 Celery worker processes of 4
   threads each (as bench/follow.py runs them), seconds and rows/s.
4. follow: one `cdms_follow --once --no-sweep --entity Account` round from an empty mirror (every
   record is a change to apply, one page after another), rows/s.

Steps 2 to 4 use an emulator seeded with `--rows` demo accounts at `--latency-ms`.
"""

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVICE = "/XRMServices/2011/OrganizationData.svc"
JSON = {"Accept": "application/json"}
PAGES = 10
PARSE_REPEATS = 20
# What the 2016 Data Hub mapped beyond today's mappings (uktrade/data-hub-korben,
# `korben/etl/spec.py`): the "2016 width" rows show the ratios at the width a full mapping reads.
WIDER_2016 = {
    "Account": [
        "optevia_CompaniesHouseNumber", "optevia_Address1", "optevia_Address2", "optevia_Address3",
        "optevia_Address4", "optevia_TownCity", "optevia_StateCounty", "optevia_PostCode", "Description",
        "WebSiteURL", "optevia_Country", "optevia_UKRegion", "optevia_BusinessType", "optevia_Sector",
        "optevia_EmployeeRange", "optevia_TurnoverRange", "ParentAccountId",
    ],
    "Contact": [
        "optevia_Title", "JobTitle", "optevia_CountryCode", "optevia_TelephoneNumber", "optevia_Address1",
        "optevia_Address2", "optevia_Address3", "optevia_Address4", "optevia_TownCity", "optevia_StateCounty",
        "optevia_PostCode", "optevia_Country", "optevia_PrimaryContact",
    ],
}  # fmt: skip


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_follow = _load("bench_follow", "follow.py")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="accounts in the emulator of steps 2 to 4")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--steps", default="pages,import,celery,follow", help="comma-separated")
    parser.add_argument("--modes", default="select,whole", help="steps 2 to 4: select, whole, or both")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="a database to use (default: DATABASE_URL, else a fresh SQLite file); it is emptied",
    )
    return parser.parse_args()


# -- 1. pages ---------------------------------------------------------------------------------


def selections():
    """{name: (entity set, $select, $expand, stored attributes, mapped attributes)} as the sync layer asks."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.test")
    import django

    django.setup()
    from contact.models import Contact
    from migrator import fetch
    from migrator.cdms_migrator import get_migrator
    from organisation.models import Organisation

    account, contact = get_migrator(Organisation), get_migrator(Contact)
    expand = contact.navigation["organisation"]

    def mapped(migrator):
        return {field.cdms_name for field in migrator.fields.values()}

    contact_and_parent = (
        set(contact.select) | {f"{expand}/{name}" for name in account.select},
        mapped(contact) | {f"{expand}/{name}" for name in mapped(account)},
    )
    reads = {
        "Account": ("AccountSet", fetch.selection(account), None, set(account.select), mapped(account)),
        "Contact": ("ContactSet", fetch.selection(contact), None, set(contact.select), mapped(contact)),
        "Contact + organisation": ("ContactSet", fetch.selection(contact, [expand]), expand, *contact_and_parent),
    }
    for name in ("Account", "Contact"):
        entity_set, select, _, stored, fields = reads[name]
        wider = [attribute for attribute in WIDER_2016[name] if attribute not in select]
        reads[f"{name}, 2016 width"] = (entity_set, select + wider, None, stored | set(wider), fields | set(wider))
    return reads


def page_bodies(base_url, entity_set, params):
    """The raw JSON bodies of the first PAGES pages, following `__next`."""
    url, bodies = f"{base_url}{SERVICE}/{entity_set}", []
    session = requests.Session()
    while url and len(bodies) < PAGES:
        response = session.get(url, params=params if not bodies else None, headers=JSON, timeout=60)
        response.raise_for_status()
        bodies.append(response.content)
        url = response.json()["d"].get("__next")
    return bodies


def parse_ms(body):
    """Median milliseconds `json.loads` takes on one page."""
    times = []
    for _ in range(PARSE_REPEATS):
        started = time.perf_counter()
        json.loads(body)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def projected(record, names):
    """`record` reduced to `names` (`nav/Attr` reaches into an expanded record), without `__metadata`."""
    kept = {}
    for name in names:
        head, _, tail = name.partition("/")
        if not tail:
            kept[head] = record.get(head)
        elif isinstance(record.get(head), dict):
            kept.setdefault(head, {})[tail] = record[head].get(tail)
    return kept


def floor_bytes(bodies, names):
    """Bytes per page of the same records holding only `names`, encoded as the emulator encodes."""
    sizes = []
    for body in bodies:
        data = json.loads(body)["d"]
        page = {"results": [projected(record, names) for record in data["results"]]}
        sizes.append(len(json.dumps({"d": page}).encode()))
    return statistics.mean(sizes)


def pages_step(workdir):
    emulator, base_url = bench_follow.start_emulator(workdir / "pages.sqlite3", 500, 0, contacts=1)
    try:
        print("1. JSON bytes and parse time per page of 50 records, first ten pages (means)")
        header = (
            f"   {'read':<24}{'whole B':>10}{'$select B':>11}{'stored B':>10}{'mapped B':>10}"
            f"{'$select/stored':>16}{'$select/mapped':>16}{'whole/$select':>15}{'parse whole ms':>16}"
            f"{'parse $select ms':>18}"
        )
        print(header)
        for name, (entity_set, select, expand, stored, mapped) in selections().items():
            options = {"$expand": expand} if expand else {}
            whole = page_bodies(base_url, entity_set, options)
            narrow = page_bodies(base_url, entity_set, {**options, "$select": ",".join(select)})
            sizes = statistics.mean(map(len, whole)), statistics.mean(map(len, narrow))
            floors = floor_bytes(whole, stored), floor_bytes(whole, mapped)
            parses = statistics.mean(map(parse_ms, whole)), statistics.mean(map(parse_ms, narrow))
            print(
                f"   {name:<24}{sizes[0]:>10,.0f}{sizes[1]:>11,.0f}{floors[0]:>10,.0f}{floors[1]:>10,.0f}"
                f"{sizes[1] / floors[0]:>16.2f}{sizes[1] / floors[1]:>16.2f}{sizes[0] / sizes[1]:>15.1f}"
                f"{parses[0]:>16.2f}{parses[1]:>18.2f}",
                flush=True,
            )
        print(
            "   stored: each record reduced to what is selected, without __metadata; "
            "mapped: only the attributes of the mapping's fields"
        )
    finally:
        emulator.terminate()
        emulator.wait()


# -- 2 to 4. throughput -----------------------------------------------------------------------

MODES = {"select": ("$select", "true"), "whole": ("whole", "false")}


class Throughput(bench_follow.Bench):
    """The steps that copy `--rows` accounts, each with and without `$select`."""

    select = "true"

    def env(self, **extra):
        return super().env(CDMS_SELECT=self.select, **extra)

    def modes(self):
        """Run the caller's loop body once with `$select` and once without; yields the mode's name."""
        for name in self.args.modes.split(","):
            mode, self.select = MODES[name]
            yield mode
        self.select = "true"

    def timed(self, *command):
        self.reset_database()
        started = time.monotonic()
        self.manage(*command)
        seconds = time.monotonic() - started
        return self.count_accounts(), seconds

    def count_accounts(self):
        script = (
            "from organisation.models import Organisation; print('ROWS', Organisation.objects.skip_cdms().count())"
        )
        out = self.manage("shell", "-c", script)
        return int(next(line.split()[1] for line in out.splitlines() if line.startswith("ROWS ")))

    def report(self, label, mode, rows, seconds):
        print(f"   {label:<44}{mode:<9}{rows:>9,}{seconds:>10.1f}{rows / seconds:>10,.0f}", flush=True)

    def import_step(self):
        print(f"2. cdms_import --full --entity Account --workers 4 ({self.args.rows:,} accounts)")
        for mode in self.modes():
            rows, seconds = self.timed("cdms_import", "--full", "--entity", "Account", "--workers", "4",
                                       "--no-progress")  # fmt: skip
            self.report("in one process, 4 threads", mode, rows, seconds)

    def celery_step(self):
        sys.path.insert(0, str(ROOT))
        from migrator.management.broker import broker_answers

        broker = self.configured_broker()
        if not broker_answers(broker):
            print(f"3. cdms_import --celery: skipped, no broker at {broker}")
            return
        print(
            f"3. cdms_import --celery --full --entity Account, 2 worker processes x 4 threads ({self.args.rows:,})"
        )
        for mode in self.modes():
            self.reset_database()
            workers = self.start_workers(2)
            try:
                started = time.monotonic()
                self.manage("cdms_import", "--celery", "--full", "--entity", "Account", "--no-progress")
                seconds = time.monotonic() - started
            finally:
                self.stop(workers)
            self.report("2 Celery worker processes", mode, self.count_accounts(), seconds)

    def follow_step(self):
        print(f"4. cdms_follow --once --no-sweep --entity Account from an empty mirror ({self.args.rows:,})")
        for mode in self.modes():
            rows, seconds = self.timed("cdms_follow", "--once", "--no-sweep", "--entity", "Account")
            self.report("one round, pages in turn", mode, rows, seconds)


def main():
    args = parse_args()
    steps = set(args.steps.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="bench-width-"))
    try:
        if "pages" in steps:
            pages_step(workdir)
        if steps & {"import", "celery", "follow"}:
            started = time.monotonic()
            emulator, base_url = bench_follow.start_emulator(workdir / "crm.sqlite3", args.rows, args.latency_ms)
            ready = time.monotonic() - started
            print(f"emulator: {args.rows:,} accounts, {args.latency_ms} ms latency, ready in {ready:.0f} s")
            bench = Throughput(args, workdir, base_url)
            print(f"database: {bench.database_url.split('@')[-1]}")
            print(f"   {'':<44}{'mode':<9}{'rows':>9}{'seconds':>10}{'rows/s':>10}", flush=True)
            try:
                for step in ("import", "celery", "follow"):
                    if step in steps:
                        getattr(bench, f"{step}_step")()
            finally:
                emulator.terminate()
                emulator.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
