"""Schemathesis against the API's own OpenAPI schema, every check, over a live server and the emulator.

Generated requests (from the schema, and deliberately outside it) must never get a server
error, an undocumented status or content type, a body the schema does not describe, a
schema-valid request refused or a schema-violating one accepted. `make test` runs a small
seeded budget; `make soak` (SOAK=1) runs a long one with a fresh seed.
"""

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.wsgi import get_wsgi_application
from django.test.testcases import QuietWSGIRequestHandler
from rest_framework.authtoken.models import Token

from tests.crm_records import seed_account, seed_contact
from tests.domain.users import make_user

CONFIG = Path(__file__).with_name("schemathesis.toml")
SOAKING = bool(os.environ.get("SOAK"))
EXAMPLES = 60 if SOAKING else 8
SEED = os.environ.get("SCHEMATHESIS_SEED", "random" if SOAKING else "7")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# The coverage phase (every boundary of every parameter, about 1,800 cases here) takes two
# minutes; `make test` fuzzes and runs the stateful links, `make soak` adds it.
PHASES = "examples,coverage,fuzzing,stateful" if SOAKING else "examples,fuzzing,stateful"
ALL_PERMISSIONS = [f"{v}_{m}" for v in ("view", "add", "change", "delete") for m in ("organisation", "contact")]


@pytest.fixture
def served(transactional_db, cdms):
    """The API on Django's threaded WSGI server, a few CRM records, and an all-permissions token."""
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietWSGIRequestHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for i in range(3):
        seed_contact(cdms, f"Ann{i}", "Lee", account=seed_account(cdms, f"Firm {i}", NumberOfEmployees=i))
    user = make_user(
        "fuzzer", *(f"{v}_{m}" for v in ("view", "add", "change", "delete") for m in ("organisation", "contact"))
    )
    yield f"http://127.0.0.1:{server.server_port}", Token.objects.create(user=user).key
    server.shutdown()
    server.server_close()


@pytest.mark.soak
def test_every_check_passes_on_every_operation(served, tmp_path):
    url, token = served
    command = [str(SCHEMATHESIS), "--config-file", str(CONFIG), "--no-color", "run", f"{url}/api/schema/"]
    command += ["--checks", "all", "--phases", PHASES, "--max-examples", str(EXAMPLES)]
    command += ["--header", f"Authorization: Token {token}"]
    if SEED != "random":
        command += ["--seed", SEED]
    # Run elsewhere: Schemathesis keeps a cache of what it found in its working directory.
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=tmp_path)
    summary = done.stdout[done.stdout.rfind("SUMMARY") :]
    print(summary)
    cases = re.search(r"(\d+) generated, (.*)", summary)
    assert cases and int(cases.group(1)) > 100, summary
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
