"""Settings for the test suite."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# One test database per test process, so that two runs on one machine never share one. On
# SQLite it is a file, not memory, so that other processes (concurrency tests) can open it.
_db = DATABASES["default"]  # noqa: F405
if _db["ENGINE"].endswith("sqlite3"):
    _db["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}  # noqa: F405
    _db.setdefault("OPTIONS", {})["timeout"] = 30
else:
    _db["TEST"] = {"NAME": f"test_{_db['NAME']}_{os.getpid()}"}

# A test-only synced app of every CRM attribute type (tests/crm_types); it goes with the CRM-only
# tests when the CRM is retired.
if (BASE_DIR / "tests" / "crm_types").is_dir():  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "tests.crm_types"]  # noqa: F405
