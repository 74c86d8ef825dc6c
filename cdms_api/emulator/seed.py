"""Demo data: the 2016 Data Hub's world at the real CDMS's width, repeatable from a seed.

Reference lists (sectors with their parent sectors, countries, UK regions, business types,
ranges, titles, roles, interaction types, services and their statuses), teams and a few dozen
advisers first; then organisations, their contacts and interactions, each pointing at what was
seeded before it. Besides the attributes the Data Hub maps, each record gets values in a
realistic share (`FILLED_SHARE`) of its other attributes, as records in a CRM used for years
have, so pages have the real width. Entities the schema does not serve are left out, so a
foreign `$metadata` still seeds what it shares with the 2016 domain.

Faker (en_GB) fills small pools once; rows are combined from the pools with a seeded
`random.Random` and bulk-inserted in one transaction, so 100,000 organisations (and their
contacts) take seconds, not minutes. A `progress` function hears how far it has got: every
`PROGRESS_EVERY` rows built, then the writing, the indexing and the totals.
"""

import functools
import random
import time
import uuid
from datetime import UTC, datetime

from faker import Faker

from . import reference
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
        self.words = [fake.word().capitalize() for _ in range(size)]
        self.sentences = [fake.paragraph(nb_sentences=3) for _ in range(size // 4)]


def _key(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _times(rng):
    created = rng.randrange(START, END)
    return created * 1000, rng.randrange(created, END) * 1000


@functools.lru_cache(maxsize=65536)
def _slug(name):
    return "".join(c for c in fold(name) if c.isalnum())[:20] or "example"


FILLED_SHARE = 0.35
# Filler variants drawn once per entity; each row takes one, so wide rows cost a dict update.
FILLER_VARIANTS = 64
SYSTEM_USER_ID = "8a0f3a4c-6d7e-4c1b-9f0e-2b5d1c3a7e90"


def _text(attr, value):
    value = None if value is None else value[: attr.max_length or None]
    return {attr.column: value, attr.shadow: fold(value)}


def _lookup(attr, key, logical):
    return {attr.column: key, attr.name + "__t": logical if key else None}


class Rows:
    """Builds the stored rows of one entity: the named values over a random filler."""

    def __init__(self, entity, rng, pools, keys):
        self.entity, self.rng, self.keys = entity, rng, keys
        self.columns = [c for a in entity.attributes for c in _columns(a)]
        self.blank = dict.fromkeys(self.columns)
        fillable = [a for a in entity.attributes if _fillable(a)]
        bases = ((a, entity.attribute(a.name + "_Base")) for a in entity.attributes if a.type == s.MONEY)
        self.bases = [(a, base) for a, base in bases if base is not None]
        self.variants = [self._filler(fillable, pools) for _ in range(FILLER_VARIANTS)]

    def _filler(self, attributes, pools):
        values = {}
        for attr in attributes:
            if self.rng.random() < FILLED_SHARE:
                values.update(self.value(attr, pools))
        return values

    def value(self, attr, pools):
        """Random stored columns of one attribute (empty for a lookup with nothing to point at)."""
        rng, kind = self.rng, attr.type
        if kind in s.TEXT_TYPES:
            return _text(attr, rng.choice(pools.sentences if kind == s.MEMO else pools.words))
        if kind == s.LOOKUP:
            return self._random_lookup(attr)
        value = {
            s.INT: lambda: rng.randrange(0, 1000),
            s.BIGINT: lambda: rng.randrange(0, 10**12),
            s.BOOL: lambda: int(rng.random() < 0.5),
            s.DATETIME: lambda: rng.randrange(START, END) * 1000,
            s.DECIMAL: lambda: rng.randrange(0, 10**6) * 10 ** max(attr.precision - 2, 0),
            s.MONEY: lambda: rng.randrange(0, 10**7) * 10**attr.precision,
            s.DOUBLE: lambda: round(rng.uniform(-90, 90), 6),
            s.OPTIONSET: lambda: rng.choice((1, 2, 3, 100000000, 100000001)),
            s.GUID: lambda: _key(rng),
        }[kind]()
        return {attr.column: value}

    def _random_lookup(self, attr):
        targets = [t for t in attr.targets if t != self.entity.logical_name]
        served = [t for t in targets if self.keys.get(t)]
        if served:
            target = self.rng.choice(served)
            return _lookup(attr, self.rng.choice(self.keys[target]), target)
        if targets and not any(t in self.keys for t in targets):  # an entity this CRM does not serve
            return _lookup(attr, _key(self.rng), targets[0])
        return {}

    def row(self, version, named):
        """One stored row: stamps, a filler variant, then the `named` attribute values."""
        created, modified = _times(self.rng)
        row = {**self.blank, **self.rng.choice(self.variants)}
        row.update({self.entity.key: _key(self.rng), "CreatedOn": created, "ModifiedOn": modified})
        row["VersionNumber"] = version
        for name in ("OwnerId", "CreatedBy", "ModifiedBy"):
            if self.entity.attribute(name):
                row.update(_lookup(self.entity.attribute(name), SYSTEM_USER_ID, "systemuser"))
        for name in ("StateCode", "statecode"):
            if self.entity.attribute(name):
                row[name] = 0
        for name in ("StatusCode", "statuscode"):
            if self.entity.attribute(name):
                row[name] = 1
        for name, value in named.items():
            row.update(self.named(name, value))
        for attr, base in self.bases:
            row[base.column] = row[attr.column]  # one currency: the base amount is the amount
        return row

    def named(self, name, value):
        """Stored columns of one named value (lookups given as (key, logical name) or None)."""
        attr = self.entity.attribute(name)
        if attr is None:
            return {}
        if attr.type in s.TEXT_TYPES:
            return _text(attr, value)
        if attr.type == s.LOOKUP:
            return _lookup(attr, *(value or (None, None)))
        return {attr.column: value}


def _columns(attr):
    cols = [attr.column]
    if attr.type in s.TEXT_TYPES:
        cols.append(attr.shadow)
    if attr.type == s.LOOKUP:
        cols.append(attr.name + "__t")
    return cols


def _fillable(attr):
    lowered = attr.name.lower()
    return not (attr.system or attr.read_only or lowered in ("statecode", "statuscode", "ownerid"))


class World:
    """What a seeding run has made so far: keys by logical name, and each entity's row builder."""

    def __init__(self, store, rng, pools):
        self.store, self.rng, self.pools = store, rng, pools
        self.keys = {e.logical_name: [] for e in store.schema}
        self.keys["systemuser"] = [SYSTEM_USER_ID] if "systemuser" in self.keys else []
        self.builders = {}
        self.rows = {}

    def serves(self, logical):
        """True when the schema has this entity."""
        return logical in self.keys

    def add(self, logical, named):
        """Build one row of `logical` with the `named` values; returns its key."""
        entity = self.store.schema.by_logical[logical]
        if logical not in self.builders:
            self.builders[logical] = Rows(entity, self.rng, self.pools, self.keys)
        row = self.builders[logical].row(self.store.next_version(), named)
        self.rows.setdefault(logical, []).append(row)
        self.keys[logical].append(row[entity.key])
        return row[entity.key]

    def pick(self, logical, chance=1.0):
        """A random seeded key of `logical` as a lookup value, or None (by `chance`, or none seeded)."""
        keys = self.keys.get(logical)
        if not keys or self.rng.random() >= chance:
            return None
        return (self.rng.choice(keys), logical)


def account_values(world, name, city):
    """The Data Hub's attributes of one demo Account."""
    rng, pools = world.rng, world.pools
    domain = _slug(name) + ".co.uk"
    postcode = rng.choice(pools.postcodes)
    return {
        "Name": name,
        "optevia_Alias": name.split()[0] if rng.random() < 0.3 else None,
        "optevia_ukorganisation": int(rng.random() < 0.9),
        "EMailAddress1": f"info@{domain}",
        "Address1_Line1": rng.choice(pools.streets),
        "Address1_City": city,
        "Address1_PostalCode": postcode,
        "Telephone1": rng.choice(pools.phones),
        "WebSiteURL": f"https://www.{domain}",
        "NumberOfEmployees": int(rng.lognormvariate(3.5, 1.4)),
        "Revenue": rng.randrange(10_000, 50_000_000) * 10_000,
        "optevia_LastVerified": rng.randrange(START, END) * 1000 if rng.random() < 0.6 else None,
        "optevia_CompaniesHouseNumber": f"{rng.randrange(10**7):08d}" if rng.random() < 0.8 else None,
        "optevia_Address1": rng.choice(pools.streets),
        "optevia_Address2": None,
        "optevia_TownCity": city,
        "optevia_PostCode": postcode,
        "Description": rng.choice(pools.sentences) if rng.random() < 0.5 else None,
        "optevia_Country": world.pick("optevia_country"),
        "optevia_UKRegion": world.pick("optevia_ukregion", 0.9),
        "optevia_BusinessType": world.pick("optevia_businesstype", 0.9),
        "optevia_Sector": world.pick("optevia_sector", 0.9),
        "optevia_EmployeeRange": world.pick("optevia_employeerange", 0.7),
        "optevia_TurnoverRange": world.pick("optevia_turnoverrange", 0.6),
        "ParentAccountId": world.pick("account", 0.05),
        "PrimaryContactId": None,
    }


def contact_values(world, account):
    """The Data Hub's attributes of one demo Contact working for `account` (a row dict or None)."""
    rng, pools = world.rng, world.pools
    first, last = rng.choice(pools.first_names), rng.choice(pools.last_names)
    domain = account["EMailAddress1"].split("@")[1] if account else "example.co.uk"
    # About 8% of the real CDMS's contacts have no email address.
    email = f"{_slug(first)}.{_slug(last)}@{domain}" if rng.random() >= 0.08 else None
    return {
        "FirstName": first,
        "LastName": last,
        "FullName": f"{first} {last}",
        "EMailAddress1": email,
        "JobTitle": rng.choice(JOB_TITLES),
        "Telephone1": rng.choice(pools.phones),
        "ParentCustomerId": (account["AccountId"], "account") if account else None,
        "optevia_Title": world.pick("optevia_title", 0.8),
        "optevia_ContactRole": world.pick("optevia_contactrole", 0.6),
        "optevia_CountryCode": "+44",
        "optevia_TelephoneNumber": rng.choice(pools.phones),
        "optevia_Address1": rng.choice(pools.streets) if rng.random() < 0.5 else None,
        "optevia_TownCity": account["Address1_City"] if account else None,
        "optevia_PostCode": account["Address1_PostalCode"] if account else None,
        "optevia_Country": world.pick("optevia_country", 0.5),
        "optevia_PrimaryContact": int(rng.random() < 0.3),
    }


def interaction_values(world, account, contact):
    """The Data Hub's attributes of one demo interaction with `account` and one of its contacts."""
    rng, pools = world.rng, world.pools
    return {
        "Subject": rng.choice(reference.SUBJECTS),
        "optevia_Notes": rng.choice(pools.sentences),
        "ActualStart": rng.randrange(START, END) * 1000,
        "optevia_InteractionCommunicationChannel": world.pick("optevia_interactioncommunicationchannel"),
        "optevia_Advisor": world.pick("systemuser"),
        "optevia_Contact": (contact, "contact") if contact else None,
        "optevia_Organisation": (account["AccountId"], "account"),
        "RegardingObjectId": (account["AccountId"], "account"),
        "optevia_ServiceProvider": world.pick("businessunit"),
        "optevia_Service": world.pick("optevia_service", 0.9),
    }


def seed_reference(world):
    """The CRM's own lists, teams and advisers (only the entities the schema serves)."""
    for logical, attribute, names in reference.LISTS:
        if world.serves(logical):
            for name in names:
                world.add(logical, {attribute: name})
    if world.serves("optevia_sector"):
        parents = {}
        for parent, children in reference.SECTORS:
            parents[parent] = world.add("optevia_sector", {"optevia_name": parent})
            for child in children:
                parent_ref = (parents[parent], "optevia_sector")
                world.add("optevia_sector", {"optevia_name": child, "optevia_ParentSector": parent_ref})
    if world.serves("businessunit"):
        for team in reference.TEAMS:
            world.add("businessunit", {"Name": team})
    if world.serves("systemuser"):
        for _ in range(reference.ADVISERS):
            first, last = world.rng.choice(world.pools.first_names), world.rng.choice(world.pools.last_names)
            world.add(
                "systemuser",
                {
                    "FirstName": first,
                    "LastName": last,
                    "FullName": f"{first} {last}",
                    "DomainName": f"{_slug(first)}.{_slug(last)}@trade.example.gov.uk",
                    "BusinessUnitId": world.pick("businessunit"),
                },
            )


def _insert_many(db, table, rows):
    if not rows:
        return
    cols = list(rows[0])
    quoted = ", ".join(f'"{c}"' for c in cols)
    sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(cols))})'
    db.executemany(sql, [tuple(r[c] for c in cols) for r in rows])


def seed_demo(store, n, seed=0, contacts_per_account=3, progress=None, interactions_per_account=2):
    """Bulk-insert reference lists, `n` accounts, their contacts and interactions into `store`.

    `progress`, if given, is called with a line saying how far the seeding has got.
    """
    report = progress or (lambda line: None)
    started = time.monotonic()
    rng = random.Random(seed)
    pools = Pools(seed)
    with store.lock:
        world = World(store, rng, pools)
        seed_reference(world)
        for i in range(n):
            name = rng.choice(pools.companies)
            city = rng.choice(pools.cities)
            if rng.random() < 0.5:
                name = f"{name} {city}"
            world.add("account", account_values(world, name, city))
            _built(report, "organisations", i + 1, n)
        accounts = world.rows.get("account", [])
        for i, account in enumerate(accounts):
            contacts = []
            for _ in range(rng.randint(0, 2 * contacts_per_account)):
                contacts.append(world.add("contact", contact_values(world, account)))
            if world.serves("detica_interaction"):
                for _ in range(rng.randint(0, 2 * interactions_per_account)):
                    contact = rng.choice(contacts) if contacts else None
                    world.add("detica_interaction", interaction_values(world, account, contact))
            _built(report, "organisations' contacts and interactions", i + 1, n)
        counts = {logical: len(rows) for logical, rows in world.rows.items()}
        report(f"seeding: writing {_summary(counts)}")
        # A bulk load into empty tables: the write-ahead log would write every page twice
        # (a 100,000-organisation store is about 2 GB), so the load is journalled in memory.
        # A crash while seeding leaves a broken demo store: delete the file and seed again.
        store.db.execute("PRAGMA journal_mode=MEMORY")
        store.db.execute("BEGIN")
        # Building indexes once after the load is much faster than maintaining them per row.
        for entity in store.schema:
            for statement in index_sql(entity, drop=True):
                store.db.execute(statement)
        for logical, rows in world.rows.items():
            _insert_many(store.db, store.schema.by_logical[logical].name, rows)
        report("seeding: indexing")
        for entity in store.schema:
            for statement in index_sql(entity):
                store.db.execute(statement)
        store.db.execute("COMMIT")
        if store.path:
            store.db.execute("PRAGMA journal_mode=WAL")
        store.checkpoint()
    seconds = time.monotonic() - started
    report(f"seeded {_summary(counts)} in {seconds:.1f} s")


def _summary(counts):
    n, contacts = counts.get("account", 0), counts.get("contact", 0)
    text = f"{n:,} organisations and {contacts:,} contacts"
    others = sum(v for k, v in counts.items() if k not in ("account", "contact"))
    return text + (f" (and {others:,} other records)" if others else "")


def _built(report, what, done, total):
    if done % PROGRESS_EVERY == 0 or done == total:
        report(f"seeding: {what} built, {done:,} of {total:,} ({100 * done // total} %)")
