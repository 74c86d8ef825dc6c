"""Request observers: a broken one never fails a CRM request; the operations code outlives the CRM."""

import ast
from pathlib import Path

from cdms_api import counting
from cdms_api.client import CDMSClient
from tests.crm_records import seed_account

ROOT = Path(__file__).resolve().parents[2]


def test_an_observer_that_raises_is_logged_and_the_request_still_succeeds(crm, caplog):
    seed_account(crm, "Alpha")
    seen = []

    def broken(record):
        raise RuntimeError("metrics directory is full")

    counting.add_observer(broken)
    counting.add_observer(seen.append)
    try:
        with counting.count_requests() as counter, CDMSClient(crm.base_url, timeout=5) as client:
            pages = list(client.list("Account"))
    finally:
        counting.remove_observer(broken)
        counting.remove_observer(seen.append)
    assert [len(page) for page in pages] == [1]
    assert counter.count == 1
    assert [(r.method, r.entity_set, r.status) for r in seen] == [("GET", "AccountSet", 200)]
    assert "metrics directory is full" in caplog.text


def test_an_observer_added_twice_is_called_once(crm):
    seen = []
    counting.add_observer(seen.append)
    counting.add_observer(seen.append)
    try:
        with CDMSClient(crm.base_url, timeout=5) as client:
            list(client.list("Account"))
    finally:
        counting.remove_observer(seen.append)
    assert len(seen) == 1


def test_the_operations_endpoints_never_import_the_sync_layer():
    # /healthz, /readyz, /metrics and request ids stay when the CRM is retired.
    for path in sorted((ROOT / "core" / "ops").glob("*.py")):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and n.level == 0]
        assert not [name for name in names if name.split(".")[0] in {"migrator", "cdms_api"}], path
