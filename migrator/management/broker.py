"""Whether the Celery broker answers, so that commands can say so instead of hanging on it."""

import socket
from urllib.parse import urlsplit

from kombu.utils.url import maybe_sanitize_url

DEFAULT_PORTS = {"redis": 6379, "rediss": 6380, "amqp": 5672}


def broker_answers(url, timeout=1.0):
    """True when the broker of `url` accepts a connection (Celery's in-memory broker always does)."""
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return True
    if not parts.hostname:
        return False
    try:
        socket.create_connection(
            (parts.hostname, parts.port or DEFAULT_PORTS.get(parts.scheme, 0)), timeout
        ).close()
        return True
    except OSError:
        return False


def shown(url):
    """The broker URL with any password masked, for messages."""
    return maybe_sanitize_url(url)
