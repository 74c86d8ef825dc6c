"""Rehearse retiring the CRM on a temporary copy of the tree, exactly as docs/retiring-cdms.md says.

`make retire-check` runs it (and `.ci/run` runs that). On a copy of the tracked files:

1. while the CRM is live, migrate a database and fill it with records and their versions
   (the "old" database), then drop the sync layer's tables (`migrate migrator zero`);
2. apply the recipe mechanically: the seam edits in core (`EDITS`), the CRM block of the
   settings (`CRM_BLOCK`), the deletions (`deleted_paths`); each edit must match exactly once;
3. `manage.py check`; `makemigrations` (it must write the domain apps' migrations, and
   `makemigrations --check` must then find nothing missing); `ruff check`;
4. migrate a fresh database, and the old one: every record, key and version is still there
   and an old version still reverts (on SQLite, and on PostgreSQL at `PG_URL` when it answers);
5. `manage.py runlocal` (what `make run` runs) starts the API server alone, and Ctrl-C stops it;
6. run the domain tests (tests/domain) in the copy.

Any failing step ends the run with status 1 and says which step. Prints each step's time.
The copy lives in a temporary directory that is removed afterwards (`--keep` keeps it).
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent

# (file, text before, text after): the seams in core. Each `before` must occur exactly once.
EDITS = [
    ("core/models.py", "\nfrom migrator.models import CDMSModel  # the seam (docs/retiring-cdms.md)\n", ""),
    ("core/models.py", "class CRMBaseModel(CDMSModel):", "class CRMBaseModel(TimeStampedModel):"),
    (
        "core/managers.py",
        "# The seam: retiring the CRM replaces these two imports (docs/retiring-cdms.md).\n"
        "from migrator.context import skip_cdms as local_only\n"
        "from migrator.managers import CDMSManager as BaseManager\n",
        "# The CRM is retired: nothing to keep out of a block, and a plain manager.\n"
        "from contextlib import nullcontext as local_only\n\n"
        "from django.db.models import Manager as BaseManager\n",
    ),
]
# The CRM block of the settings: deleted from its first line to its last, both included.
CRM_BLOCK = ("settings/base.py", "# --- CRM block:", "# --- end of the CRM block ---\n")
# Deleted whole: the sync layer, its client and emulator, benches, and this rehearsal.
DELETED = ["migrator", "cdms_api", "bench", ".ci/retire.py"]
# Of tests/, only the world-independent domain tests and the shared conftest stay.
KEPT_TESTS = ["tests/__init__.py", "tests/conftest.py", "tests/domain"]
DOMAIN_TESTS = "tests/domain"
# The old and fresh databases are made on SQLite, and on this PostgreSQL server when it answers.
PG_URL = "postgres://postgres@127.0.0.1:5432/datahub"

FILL_OLD_DATABASE = """
import uuid
from adviser.models import Adviser
from contact.models import Contact
from core.managers import local_only
from interaction.models import Interaction
from metadata.models import Sector, Team
from organisation.models import Organisation
def key():
    return str(uuid.uuid4())
with local_only():
    energy = Sector.objects.create(name="Energy", cdms_pk=key())
    nuclear = Sector.objects.create(name="Nuclear", parent=energy, cdms_pk=key())
    team = Team.objects.create(name="Trade", cdms_pk=key())
    adviser = Adviser.objects.create(first_name="Bob", last_name="Day", team=team, cdms_pk=key())
    for i in range(20):
        org = Organisation.objects.create(name=f"Firm {i}", city="Leeds", sector=nuclear, cdms_pk=key())
        org.city = "York"
        org.save()
        ann = Contact.objects.create(first_name="Ann", last_name=f"Lee {i}", organisation=org, cdms_pk=key())
        Interaction.objects.create(
            subject=f"Call {i}", organisation=org, contact=ann, adviser=adviser, cdms_pk=key()
        )
"""

CHECK_OLD_DATABASE = """
from django.db import connection
from reversion.models import Version
from contact.models import Contact
from interaction.models import Interaction
from organisation.models import Organisation
orgs = list(Organisation.objects.order_by("pk"))
assert len(orgs) == 20 and Contact.objects.count() == 20, "records lost"
assert all(org.cdms_pk and org.city == "York" for org in orgs), "values lost"
assert all(c.organisation_id for c in Contact.objects.all()), "links lost"
calls = list(Interaction.objects.select_related("organisation__sector__parent", "adviser__team"))
assert len(calls) == 20, "interactions lost"
assert all(c.contact_id and c.adviser.team.name == "Trade" for c in calls), "interactions' links lost"
assert all(c.organisation.sector.parent.name == "Energy" for c in calls), "reference lists lost"
versions = Version.objects.get_for_object(orgs[0])
assert [v.field_dict["city"] for v in versions] == ["York", "Leeds"], "versions lost"
versions.last().revision.revert()
assert Organisation.objects.get(pk=orgs[0].pk).city == "Leeds", "an old version does not revert"
assert not [t for t in connection.introspection.table_names() if t.startswith("migrator_")], "sync tables left"
kept = Version.objects.count()
print(f"old database: {len(orgs)} organisations, 20 contacts, 20 interactions, {kept} versions kept")
"""


class StepFailed(Exception):
    """A step of the rehearsal failed."""


def copy_tree(target):
    """Copy the tracked files (as they are in the working tree) into `target`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        name = raw.decode()
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def apply_edits(tree):
    """Apply the seam edits and delete the settings' CRM block; return how many edits were made."""
    for name, before, after in EDITS:
        path = tree / name
        text = path.read_text()
        if text.count(before) != 1:
            raise StepFailed(f"{name}: expected exactly one {before.strip()!r}, found {text.count(before)}")
        path.write_text(text.replace(before, after))
    name, first, last = CRM_BLOCK
    path = tree / name
    text = path.read_text()
    start, end = text.find(first), text.find(last)
    if start < 0 or end < start or text.count(first) != 1:
        raise StepFailed(f"{name}: no single block from {first!r} to {last.strip()!r}")
    path.write_text(text[:start].rstrip("\n") + "\n" + text[end + len(last) :])
    return len(EDITS) + 1


def deleted_paths(tree):
    """The paths the recipe deletes, relative to `tree`."""
    paths = [tree / name for name in DELETED]
    paths += [path for path in sorted(tree.glob("*/cdms_migrator.py")) if path.parent.name not in DELETED]
    kept = {tree / name for name in KEPT_TESTS}
    paths += [path for path in sorted((tree / "tests").iterdir()) if path not in kept]
    return [path for path in paths if path.exists()]


def delete(tree):
    """Delete what the recipe deletes; return the number of paths deleted."""
    paths = deleted_paths(tree)
    for path in paths:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return len(paths)


class SQLite:
    """Databases as files in the copy."""

    name = "SQLite"

    def __init__(self, tree):
        self.tree = tree

    def create(self, label):
        """Return the URL of a new, empty database."""
        return f"sqlite:///{self.tree / f'.{label}.sqlite3'}"

    def drop_all(self):
        """Nothing to do: the files go with the copy."""


class PostgreSQL:
    """Databases made for the rehearsal on the server of `url`, dropped afterwards."""

    name = "PostgreSQL"

    def __init__(self, url):
        self.url = urlsplit(url)
        self.made = []

    def _admin(self):
        import psycopg

        return psycopg.connect(
            host=self.url.hostname,
            port=self.url.port or 5432,
            user=self.url.username,
            password=self.url.password,
            dbname="postgres",
            autocommit=True,
            connect_timeout=2,
        )

    def reachable(self):
        """True when the server answers."""
        try:
            self._admin().close()
        except Exception:  # any failure to connect means: not available here
            return False
        return True

    def create(self, label):
        """Create an empty database; return its URL."""
        name = f"retire_{label}_{os.getpid()}"
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return urlunsplit(self.url._replace(path=f"/{name}"))

    def drop_all(self):
        """Drop the databases this rehearsal made."""
        with self._admin() as connection:
            for name in self.made:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(tree, *args, database=None):
    """Run a command in the copy (on the database at URL `database`); raise StepFailed when it fails."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CDMS_", "DATABASE_URL", "DJANGO_"))}
    environ.update(DJANGO_SETTINGS_MODULE="settings.test", PYTHONDONTWRITEBYTECODE="1")
    if database is not None:
        environ["DATABASE_URL"] = database
    result = subprocess.run(args, cwd=tree, env=environ, capture_output=True, text=True)
    if result.returncode != 0:
        raise StepFailed(f"`{' '.join(map(str, args))}` failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result.stdout


def manage(tree, *args, **kwargs):
    """Run manage.py in the copy."""
    return run(tree, sys.executable, "manage.py", *args, **kwargs)


def run_locally(tree, database):
    """Start `manage.py runlocal` in the copy until its banner; return the processes it started."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CDMS_", "DATABASE_URL", "DJANGO_"))}
    environ.update(DJANGO_SETTINGS_MODULE="settings.test", PYTHONDONTWRITEBYTECODE="1", DATABASE_URL=database)
    argv = [sys.executable, "manage.py", "runlocal", "--api-port", str(port), "--run-dir", str(tree / ".run")]
    proc = subprocess.Popen(
        argv, cwd=tree, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines, deadline = [], threading.Timer(300, proc.kill)  # a run that never starts is stopped
    deadline.start()
    try:
        for line in proc.stdout:
            lines.append(line)
            if "Press Ctrl-C to stop." in line:
                break
        proc.send_signal(signal.SIGINT)
        status = proc.wait(timeout=60)
    finally:
        deadline.cancel()
        if proc.poll() is None:
            proc.kill()
    output = "".join(lines) + proc.stdout.read()
    started = [match[1] for match in (re.match(r"Starting (the [\w ]+?): ", line) for line in lines) if match]
    if status != 0 or started != ["the API server"] or "Stopped." not in output:
        raise StepFailed(
            f"`manage.py runlocal` did not run the API server alone (status {status}):\n{output[-3000:]}"
        )
    return started


def rehearse(tree, backends):
    """Yield (step, outcome) while running every step on the copy in `tree`, on each backend."""
    old = {}
    for backend in backends:
        old[backend.name] = url = backend.create("old")
        manage(tree, "migrate", "--noinput", database=url)
        manage(tree, "shell", "-c", FILL_OLD_DATABASE, database=url)
        manage(tree, "migrate", "migrator", "zero", "--noinput", database=url)
        yield (
            f"an old {backend.name} database: migrated, filled with records and versions, sync tables dropped",
            "",
        )
    edits = apply_edits(tree)
    yield "the recipe: edits", f"{edits} edits ({len(EDITS)} in core's seams, 1 block of settings)"
    deleted = delete(tree)
    yield "the recipe: deletions", f"{deleted} paths deleted"
    scratch = backends[0].create("scratch")
    manage(tree, "check", "--fail-level", "WARNING", database=scratch)
    yield "manage.py check", "no issues"
    written = manage(tree, "makemigrations", "--noinput", database=scratch)
    if "organisation" not in written or "contact" not in written:
        raise StepFailed(f"makemigrations wrote no migrations for the domain apps:\n{written}")
    manage(tree, "makemigrations", "--check", "--dry-run", database=scratch)
    new = [line.strip() for line in written.splitlines() if "/migrations/" in line]
    yield "makemigrations", ", ".join(new) or written.strip()
    run(tree, str(Path(sys.executable).parent / "ruff"), "check", "--quiet", ".")
    yield "ruff check", "clean"
    for backend in backends:
        manage(tree, "migrate", "--noinput", database=backend.create("fresh"))
        yield f"migrate a fresh {backend.name} database", "done"
        manage(tree, "migrate", "--noinput", database=old[backend.name])
        checked = manage(tree, "shell", "-c", CHECK_OLD_DATABASE, database=old[backend.name])
        yield f"migrate the old {backend.name} database", checked.strip().splitlines()[-1]
    started = run_locally(tree, backends[0].create("run"))
    yield "make run's `manage.py runlocal`", f"started {', '.join(started)}; Ctrl-C stopped it"
    # settings.test gives each test process its own test database on the server of this URL.
    database = os.environ.get("DATABASE_URL") or backends[0].create("test")
    output = run(
        tree, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", DOMAIN_TESTS, database=database
    )
    yield "domain tests", output.strip().splitlines()[-1]


def main():
    """Rehearse the retirement; exit 1 when a step fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the retired copy and print where it is")
    options = parser.parse_args()
    started = time.monotonic()
    tree = Path(tempfile.mkdtemp(prefix="datahub-retired-"))
    backends = [SQLite(tree)]
    postgres = PostgreSQL(os.environ.get("PG_URL", PG_URL))
    if postgres.reachable():
        backends.append(postgres)
    status = 0
    try:
        copy_tree(tree)
        print(f"Rehearsing the retirement of the CRM on a copy of the tree in {tree}")
        print(
            f"  databases: {', '.join(b.name for b in backends)}"
            + ("" if postgres in backends else " (no PostgreSQL)")
        )
        last = time.monotonic()
        for step, outcome in rehearse(tree, backends):
            now = time.monotonic()
            print(f"  ok  {now - last:5.1f}s  {step}" + (f": {outcome}" if outcome else ""))
            last = now
    except StepFailed as exc:
        print(f"  FAILED: {exc}", file=sys.stderr)
        status = 1
    finally:
        for backend in backends:
            backend.drop_all()
        if options.keep:
            print(f"Kept the copy in {tree}")
        else:
            shutil.rmtree(tree, ignore_errors=True)
    verdict = "passed" if status == 0 else "FAILED"
    print(f"Retirement rehearsal {verdict} in {time.monotonic() - started:.1f}s.")
    return status


if __name__ == "__main__":
    sys.exit(main())
