"""`manage.py create_demo_user`: an idempotent demo superuser with a known password and an API token."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = (
        "Create (or reset) a superuser for trying the service locally, give it a DRF token, and print "
        "the sign-in details and the URLs to open. Never use it on a deployment."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="where the server listens")

    def handle(self, *args, **options):
        user, created = get_user_model().objects.get_or_create(username=options["username"])
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(options["password"])
        user.save()
        token, _ = Token.objects.get_or_create(user=user)
        base = options["base_url"].rstrip("/")
        lines = [
            f"{'Created' if created else 'Reset'} the demo superuser.",
            f"  user:      {user.get_username()}",
            f"  password:  {options['password']}",
            f"  API token: {token.key}",
            f"  admin:     {base}/admin/",
            f"  API docs:  {base}/api/docs/",
            f"  API root:  {base}/api/v1/",
            f'  try:       curl -H "Authorization: Token {token.key}" {base}/api/v1/organisations/',
        ]
        self.stdout.write("\n".join(lines))
