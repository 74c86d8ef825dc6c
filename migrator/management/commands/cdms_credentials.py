"""`manage.py cdms_credentials [--fixed]`: are the CRM credentials refused? Say they are fixed."""

from django.core.management.base import BaseCommand

from migrator.conf import cdms_settings
from migrator.credentials import describe, mark_fixed, refusal_in_force


class Command(BaseCommand):
    help = (
        "Show whether the CRM or AD FS refused the configured credentials (after a refusal no process "
        "sends them again until CDMS_CREDENTIALS_BACKOFF passes). --fixed: the password or account is "
        "fixed, so forget the refusal and let the next request sign in again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fixed", action="store_true", help="the credentials are fixed: forget every recorded refusal"
        )

    def handle(self, *args, **options):
        refusal = refusal_in_force()
        if options["fixed"]:
            cleared = mark_fixed()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Forgot {cleared} refusal(s); the next CRM request signs in again "
                    "(every process notices within a few seconds)."
                )
            )
            return
        if refusal is None:
            self.stdout.write(f"The credentials are not refused (CDMS_AUTH={cdms_settings.CDMS_AUTH}).")
            return
        text = describe(refusal)
        self.stdout.write(self.style.ERROR(f"{text[0].upper()}{text[1:]}."))
