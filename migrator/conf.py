"""The sync layer's settings: defaults, types and checks of the flat `CDMS_*` settings, in one place.

As DRF owns `api_settings`, this app owns its settings: a project names only what it changes,
in its settings module or as environment variables of the same names (`settings/base.py`
copies the `CDMS_*` variables it finds, as text). Code reads `cdms_settings.CDMS_TIMEOUT`,
never `django.conf.settings.CDMS_TIMEOUT`: each value is looked up on first use, parsed to
its type and cached; `override_settings` (the `setting_changed` signal) clears the cache.

`check()` runs when the app loads, so a bad value stops start-up (`runserver`, WSGI,
`manage.py check`) with a message naming the setting instead of the first request
answering 500. The names are public (deployments set them) and stay as they are.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

AUTH_KINDS = ("none", "ntlm", "adfs")
PREFIX = "CDMS_"


def _text(name, value):
    return str(value).strip()


def _url(name, value):
    text = _text(name, value)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a URL ({exc}).") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name}={text!r} is not an http(s) URL with a host, e.g. https://crm.example.org/Org."
        )
    if parts.username or parts.password:
        # Never repeat the value: it holds a password.
        raise ImproperlyConfigured(
            f"{name} carries credentials (user:password@); set CDMS_USERNAME and CDMS_PASSWORD instead."
        )
    return text.rstrip("/")


def _optional_url(name, value):
    return _url(name, value) if _text(name, value) else ""


def _urls(name, value):
    items = value if isinstance(value, list | tuple) else _text(name, value).replace(",", " ").split()
    return tuple(_url(name, item) for item in items if str(item).strip())


def _auth(name, value):
    text = _text(name, value).lower()
    if text not in AUTH_KINDS:
        raise ImproperlyConfigured(f"{name}={text!r} is not one of: {', '.join(AUTH_KINDS)}.")
    return text


def _seconds(name, value):
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        parsed = -1.0
    if not parsed > 0:
        raise ImproperlyConfigured(f"{name}={value!r} is not a positive number of seconds.")
    return parsed


def _count(name, value):
    text = _text(name, value)
    if isinstance(value, bool) or not text.isdigit() or int(text) <= 0:
        raise ImproperlyConfigured(f"{name}={value!r} is not a positive integer.")
    return int(text)


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _flag(name, value):
    if isinstance(value, bool):
        return value
    text = _text(name, value).lower()
    if text not in TRUE + FALSE:
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (true or false).")
    return text in TRUE


def _stale_reads(name, value):
    text = _text(name, value).strip().lower()
    if text not in STALE_READS:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(STALE_READS)}.")
    return text


def _optional_seconds(name, value):
    if value is None or _text(name, value) == "":
        return None
    return _non_negative_seconds(name, value)


def _non_negative_seconds(name, value):
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        parsed = -1.0
    if not parsed >= 0:
        raise ImproperlyConfigured(f"{name}={value!r} is not a non-negative number of seconds.")
    return parsed


STALE_READS = ("mirror", "strict", "error")

# name: (default, parser). Parsers take text (from the environment) or a typed value.
DEFAULTS = {
    "CDMS_BASE_URL": ("http://127.0.0.1:8001", _url),
    "CDMS_AUTH": ("none", _auth),
    "CDMS_USERNAME": ("", _text),
    "CDMS_PASSWORD": ("", _text),
    "CDMS_TIMEOUT": (30.0, _seconds),
    # CDMS_AUTH=adfs (an internet-facing deployment): the AD FS to sign in through, also sent
    # as the home realm (`whr`); the password is posted only to this URL's origin.
    "CDMS_ADFS_URL": ("", _optional_url),
    # The home realm (`whr`) the CRM's STS is told: the AD FS's identifier, often
    # http://<host>/adfs/services/trust while its sign-in pages are https. Unset: CDMS_ADFS_URL.
    "CDMS_ADFS_WHR": ("", _text),
    # Further STS origins a sign-in may post a token to (space- or comma-separated URLs), beyond
    # the CRM, CDMS_ADFS_URL and the STSes the CRM's own redirects lead to.
    "CDMS_ADFS_STS_URLS": ((), _urls),
    # Seconds nothing sends the credentials again after the CRM or AD FS refused them.
    "CDMS_CREDENTIALS_BACKOFF": (900.0, _seconds),
    "CDMS_SYNC_MAX_ROWS": (5000, _count),
    "CDMS_WRITE_CONCURRENCY": (8, _count),
    # False: reads fetch whole records (every attribute the CRM has) instead of `$select`ing the
    # mapped ones; only to measure what `$select` saves (bench/width.py).
    "CDMS_SELECT": (True, _flag),
    # Seconds past which a stale change watermark makes /readyz answer 503 rather than degraded.
    "CDMS_READY_MAX_WATERMARK_AGE": (None, _optional_seconds),
    # Bounded-staleness reads and the change follower (see docs/consistency.md).
    # Seconds a read may lag the CRM when the follower's watermarks allow; unset: every read strict.
    "CDMS_MAX_STALENESS": (None, _optional_seconds),
    # Seconds since the last complete key sweep a bounded read accepts. The rows a read returns
    # are verified by key whatever this is, so it bounds only what count() can still include.
    "CDMS_MAX_DELETE_STALENESS": (600.0, _seconds),
    # What a bounded read does when a change watermark is past its bound (docs/consistency.md):
    # `mirror` answers from the mirror, marked stale, what a strict read cannot answer.
    "CDMS_STALE_READS": ("mirror", _stale_reads),
    # True: a bounded read returns the mirror's rows without checking any by key, so a deletion
    # is seen as late as the delete watermark (which such a read then judges, as count() does).
    "CDMS_UNVERIFIED_READS": (False, _flag),
    # Seconds each poll re-reads before its cursor: equal timestamps at page ends, late commits,
    # clock skew between the CRM and this machine.
    "CDMS_FOLLOW_OVERLAP": (5.0, _non_negative_seconds),
    "CDMS_FOLLOW_INTERVAL": (1.0, _seconds),
    "CDMS_SWEEP_INTERVAL": (300.0, _seconds),
    "CDMS_SWEEP_PARTITIONS": (8, _count),
    # Sweep parts `cdms_follow` lists at once (threads, each with its own CRM connection).
    "CDMS_SWEEP_CONCURRENCY": (4, _count),
    "CDMS_LEASE_SECONDS": (30.0, _seconds),
}


class CDMSSettings:
    """The `CDMS_*` settings, parsed: the project's value where it sets one, else the default."""

    def __init__(self):
        self._cache = {}

    def __getattr__(self, name):
        if name not in DEFAULTS:
            raise AttributeError(f"{name} is not a setting of the sync layer (known: {', '.join(DEFAULTS)}).")
        if name not in self._cache:
            default, parse = DEFAULTS[name]
            self._cache[name] = parse(name, getattr(settings, name, default))
        return self._cache[name]

    def reload(self):
        """Forget the parsed values; the next access reads the settings again."""
        self._cache.clear()

    def check(self):
        """Parse every setting; raise ImproperlyConfigured naming the first bad or unknown one."""
        unknown = sorted(name for name in dir(settings) if name.startswith(PREFIX) and name not in DEFAULTS)
        if unknown:
            raise ImproperlyConfigured(
                f"{', '.join(unknown)}: not a setting of the sync layer (known: {', '.join(DEFAULTS)})."
            )
        for name in DEFAULTS:
            getattr(self, name)
        if self.CDMS_AUTH in ("ntlm", "adfs") and not (self.CDMS_USERNAME and self.CDMS_PASSWORD):
            raise ImproperlyConfigured(
                f"CDMS_AUTH={self.CDMS_AUTH} needs CDMS_USERNAME (DOMAIN\\user) and CDMS_PASSWORD."
            )
        if self.CDMS_AUTH == "adfs" and not self.CDMS_ADFS_URL:
            raise ImproperlyConfigured(
                "CDMS_AUTH=adfs needs CDMS_ADFS_URL, the AD FS to sign in through "
                "(e.g. https://sts.example.org/adfs/services/trust)."
            )


cdms_settings = CDMSSettings()


@receiver(setting_changed)
def _reload(*, setting, **kwargs):
    if setting in DEFAULTS:
        cdms_settings.reload()
