"""API users with given model permissions, and API clients signed in as them."""

from django.contrib.auth.models import Permission, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def make_user(username, *codenames):
    """A user holding the named permissions (e.g. `view_organisation`)."""
    user = User.objects.create_user(username, password="pw-" + username)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def token_client(user):
    """An API client that authenticates with the user's DRF token."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
