"""`manage.py cdms_inspect EntitySet [...]`: print a synced model and its mapping for CRM entity sets.

Read from the configured CRM's `$metadata`, or from a saved document (`--metadata FILE`), as
Django's `inspectdb` reads a database. `--out DIR` writes `models.py` and `cdms_migrator.py`
there instead of printing them. See docs/sync.md, "Adding a synced model".
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cdms_api import edmx
from cdms_api.exceptions import CDMSError
from migrator.connection import get_client
from migrator.management.inspect import render


class Command(BaseCommand):
    help = "Print a synced model and its cdms_migrator.py for CRM entity sets, from the CRM's $metadata."

    def add_arguments(self, parser):
        parser.add_argument(
            "entity_sets", nargs="+", metavar="EntitySet", help="e.g. AccountSet or optevia_sectorSet"
        )
        parser.add_argument("--metadata", metavar="FILE", help="a saved $metadata document instead of the CRM's")
        parser.add_argument("--app", default="app", help="the app label the mapping names the models by")
        parser.add_argument("--read-only", action="store_true", help="map them read-only (the CRM owns them)")
        parser.add_argument("--out", metavar="DIR", help="write models.py and cdms_migrator.py into DIR")

    def handle(self, *args, **options):
        types = edmx.parse(self._document(options["metadata"]))
        entities = []
        for name in options["entity_sets"]:
            entity = edmx.by_set(types, name)
            if entity is None:
                known = ", ".join(sorted(e.entity_set for e in types.values()))
                raise CommandError(f"No entity set {name!r} in the $metadata document; it has: {known}.")
            entities.append(entity)
        generated = render(entities, options["app"], read_only=options["read_only"])
        if options["out"]:
            out = Path(options["out"])
            out.mkdir(parents=True, exist_ok=True)
            (out / "models.py").write_text(generated.models)
            (out / "cdms_migrator.py").write_text(generated.mapping)
            self.stdout.write(f"Wrote {out / 'models.py'} and {out / 'cdms_migrator.py'}.")
            return
        self.stdout.write("# models.py\n" + generated.models)
        self.stdout.write("# cdms_migrator.py\n" + generated.mapping)

    def _document(self, path):
        if path:
            try:
                return Path(path).read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc.strerror}.")
        try:
            return get_client().metadata()
        except CDMSError as exc:
            raise CommandError(f"The CRM's $metadata could not be read: {exc}")
