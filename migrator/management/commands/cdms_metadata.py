"""`manage.py cdms_metadata --save FILE`: the configured CRM's `$metadata`, to test against its shape.

The saved document is what `python -m cdms_api.emulator --metadata FILE` serves and what
`manage.py cdms_inspect --metadata FILE` reads, so a team can run the emulator with its own
CRM's entities without reaching the CRM from every test run.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cdms_api.exceptions import CDMSError
from migrator.connection import get_client


class Command(BaseCommand):
    help = "Download the configured CRM's $metadata (EDMX) document and save it to a file."

    def add_arguments(self, parser):
        parser.add_argument("--save", required=True, metavar="FILE", help="where to write the document")

    def handle(self, *args, **options):
        target = Path(options["save"])
        if not target.parent.is_dir():
            raise CommandError(f"Cannot save to {target}: the folder {target.parent} does not exist.")
        try:
            document = get_client().metadata()
        except CDMSError as exc:
            raise CommandError(f"Could not read the CRM's $metadata: {exc}") from exc
        target.write_bytes(document)
        types = document.count(b"<EntityType ")
        self.stdout.write(f"Saved {len(document):,} bytes ({types} entity types) to {target}.")
