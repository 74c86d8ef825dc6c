"""What a test needs to hand its database to another process (workers, followers, soak runs)."""

from django.db import connection


def database_url():
    """The DATABASE_URL of the test database this process uses."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
