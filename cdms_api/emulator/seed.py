"""Demo data: realistic UK organisations and their contacts, repeatable from a seed.

Faker (en_GB) fills small pools of names, streets and cities once; rows are then combined from
the pools with a seeded `random.Random` and bulk-inserted in one transaction, so 100,000
organisations (and their contacts) take seconds, not minutes. Long enough, still, that a
`progress` function hears how far it has got: every `PROGRESS_EVERY` rows built, then the
writing, the indexing and the totals.
"""

import functools
import random
import time
import uuid
from datetime import UTC, datetime

from faker import Faker

from . import schema as s
from .ddl import index_sql
from .values import fold

PROGRESS_EVERY = 10_000
START = int(datetime(2012, 1, 1, tzinfo=UTC).timestamp())
END = int(datetime(2016, 6, 1, tzinfo=UTC).timestamp())
JOB_TITLES = [
    "Director",
    "Managing Director",
    "Export Manager",
    "Finance Director",
    "Sales Manager",
    "Chief Executive",
    "Operations Manager",
    "Head of Trade",
    "Marketing Manager",
    "Buyer",
]
# Real UK cities rather than Faker's invented ones, so that the examples in the README and
# docs/api.md (`?city=Leeds`, `?city=Leeds&number_of_employees__gte=50`) find demo rows.
CITIES = [
    "London",
    "Leeds",
    "Manchester",
    "Birmingham",
    "Glasgow",
    "Bristol",
    "Sheffield",
    "York",
    "Hull",
    "Liverpool",
    "Newcastle upon Tyne",
    "Edinburgh",
    "Cardiff",
    "Belfast",
    "Nottingham",
    "Leicester",
    "Southampton",
    "Aberdeen",
    "Norwich",
    "Exeter",
]


class Pools:
    """Small lists of realistic values drawn once from Faker."""

    def __init__(self, seed, size=600):
        fake = Faker("en_GB")
        fake.seed_instance(seed)
        self.companies = [fake.company() for _ in range(size * 4)]
        self.streets = [fake.street_address() for _ in range(size)]
        self.cities = CITIES
        self.postcodes = [fake.postcode() for _ in range(size)]
        self.phones = [fake.phone_number() for _ in range(size)]
        self.first_names = [fake.first_name() for _ in range(size)]
        self.last_names = [fake.last_name() for _ in range(size)]


def _key(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _times(rng):
    created = rng.randrange(START, END)
    return created * 1000, rng.randrange(created, END) * 1000


@functools.lru_cache(maxsize=65536)
def _slug(name):
    return "".join(c for c in fold(name) if c.isalnum())[:20] or "example"


def account_row(rng, pools, version):
    """Column values of one demo Account."""
    name = rng.choice(pools.companies)
    if rng.random() < 0.5:
        name = f"{name} {rng.choice(pools.cities)}"
    domain = _slug(name) + ".co.uk"
    created, modified = _times(rng)
    verified = rng.randrange(START, END) * 1000 if rng.random() < 0.6 else None
    alias = name.split()[0] if rng.random() < 0.3 else None
    city = rng.choice(pools.cities)
    return {
        "AccountId": _key(rng),
        "CreatedOn": created,
        "ModifiedOn": modified,
        "VersionNumber": version,
        "StateCode": 0 if rng.random() < 0.95 else 1,
        "StatusCode": 1,
        "OwnerId": s.SYSTEM_USER["Id"],
        "OwnerId__t": "systemuser",
        "Name": name,
        "Name__n": fold(name),
        "optevia_Alias": alias,
        "optevia_Alias__n": fold(alias),
        "optevia_ukorganisation": int(rng.random() < 0.9),
        "EMailAddress1": f"info@{domain}",
        "EMailAddress1__n": f"info@{domain}",
        "Address1_Line1": rng.choice(pools.streets),
        "Address1_City": city,
        "Address1_City__n": fold(city),
        "Address1_PostalCode": (pc := rng.choice(pools.postcodes)),
        "Address1_PostalCode__n": fold(pc),
        "Telephone1": rng.choice(pools.phones),
        "WebSiteURL": f"https://www.{domain}",
        "NumberOfEmployees": int(rng.lognormvariate(3.5, 1.4)),
        "Revenue": rng.randrange(10_000, 50_000_000) * 10_000,
        "optevia_LastVerified": verified,
    }


def contact_row(rng, pools, version, account):
    """Column values of one demo Contact working for `account` (a row dict or None)."""
    first, last = rng.choice(pools.first_names), rng.choice(pools.last_names)
    full = f"{first} {last}"
    domain = account["EMailAddress1"].split("@")[1] if account else "example.co.uk"
    email = f"{_slug(first)}.{_slug(last)}@{domain}"
    created, modified = _times(rng)
    return {
        "ContactId": _key(rng),
        "CreatedOn": created,
        "ModifiedOn": modified,
        "VersionNumber": version,
        "StateCode": 0,
        "StatusCode": 1,
        "OwnerId": s.SYSTEM_USER["Id"],
        "OwnerId__t": "systemuser",
        "FirstName": first,
        "FirstName__n": fold(first),
        "LastName": last,
        "LastName__n": fold(last),
        "FullName": full,
        "FullName__n": fold(full),
        "EMailAddress1": email,
        "EMailAddress1__n": email,
        "JobTitle": rng.choice(JOB_TITLES),
        "Telephone1": rng.choice(pools.phones),
        "ParentCustomerId": account["AccountId"] if account else None,
        "ParentCustomerId__t": "account" if account else None,
    }


def _insert_many(db, table, rows):
    if not rows:
        return
    cols = list(rows[0])
    sql = f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})'
    db.executemany(sql, [tuple(r[c] for c in cols) for r in rows])


def seed_demo(store, n, seed=0, contacts_per_account=3, progress=None):
    """Bulk-insert `n` accounts and about `contacts_per_account * n` contacts into `store`.

    `progress`, if given, is called with a line saying how far the seeding has got.
    """
    report = progress or (lambda line: None)
    started = time.monotonic()
    rng = random.Random(seed)
    pools = Pools(seed)
    with store.lock:
        accounts = []
        for i in range(n):
            accounts.append(account_row(rng, pools, store.next_version()))
            _built(report, "organisations", i + 1, n)
        contacts = []
        for i, account in enumerate(accounts):
            for _ in range(rng.randint(0, 2 * contacts_per_account)):
                contacts.append(contact_row(rng, pools, store.next_version(), account))
            _built(report, "organisations' contacts", i + 1, n)
        report(f"seeding: writing {n:,} organisations and {len(contacts):,} contacts")
        store.db.execute("BEGIN")
        # Building indexes once after the load is much faster than maintaining them per row.
        for entity in s.ENTITIES.values():
            for statement in index_sql(entity, drop=True):
                store.db.execute(statement)
        _insert_many(store.db, "Account", accounts)
        _insert_many(store.db, "Contact", contacts)
        report("seeding: indexing")
        for entity in s.ENTITIES.values():
            for statement in index_sql(entity):
                store.db.execute(statement)
        store.db.execute("COMMIT")
        store.checkpoint()
    seconds = time.monotonic() - started
    report(f"seeded {n:,} organisations and {len(contacts):,} contacts in {seconds:.1f} s")


def _built(report, what, done, total):
    if done % PROGRESS_EVERY == 0 or done == total:
        report(f"seeding: {what} built, {done:,} of {total:,} ({100 * done // total} %)")
