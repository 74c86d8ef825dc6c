"""Typed access to the environment variables that configure a deployment.

Every reader names the variable in its error, so a missing or malformed value
stops start-up with a message that says exactly what to fix.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name, default):
    value = os.environ.get(name, "").strip()
    return value if value else default


def string(name, default=None):
    """The variable as text; required when no default is given."""
    value = _raw(name, default)
    if value is None:
        raise ImproperlyConfigured(f"{name} is not set: it is required.")
    return value


def boolean(name, default=False):
    """The variable as a boolean (1/0, true/false, yes/no, on/off)."""
    value = _raw(name, None)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false.")


def number(name, default):
    """The variable as a positive float."""
    value = _raw(name, None)
    if value is None:
        return default
    try:
        parsed = float(value)
    except ValueError:
        parsed = -1.0
    if parsed <= 0:
        raise ImproperlyConfigured(f"{name}={value!r} is not a positive number of seconds.")
    return parsed


def integer(name, default):
    """The variable as a positive integer."""
    value = _raw(name, None)
    if value is None:
        return default
    if not value.isdigit() or int(value) <= 0:
        raise ImproperlyConfigured(f"{name}={value!r} is not a positive integer.")
    return int(value)


def choice(name, default, choices):
    """The variable, which must be one of `choices`."""
    value = _raw(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def csv(name, default):
    """The variable as a comma-separated list."""
    value = _raw(name, default)
    return [item.strip() for item in value.split(",") if item.strip()]


def prefixed(prefix):
    """The non-empty variables whose names start with `prefix`, as text (the app that reads them parses them)."""
    return {name: value.strip() for name, value in os.environ.items() if name.startswith(prefix) and value.strip()}
