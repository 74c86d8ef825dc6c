"""The layout promise: domain code never imports the CRM sync apps, so retiring the CRM is deletion."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_APPS = ["metadata", "adviser", "organisation", "contact", "interaction"]
SYNC_PACKAGES = {"migrator", "cdms_api"}


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _domain_modules():
    for app in DOMAIN_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if path.name != "cdms_migrator.py" and "migrations" not in path.parts:
                yield path


@pytest.mark.parametrize("path", list(_domain_modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_does_not_import_the_sync_layer(path):
    offending = [name for name in _imports(path) if name.split(".")[0] in SYNC_PACKAGES]
    assert offending == [], f"{path.relative_to(ROOT)} imports {offending}"


def test_cdms_api_does_not_import_django():
    for path in sorted((ROOT / "cdms_api").rglob("*.py")):
        assert not [name for name in _imports(path) if name.split(".")[0] == "django"], path


SEAMS = {"core/models.py", "core/managers.py"}  # re-pointed when the CRM is retired


def test_core_imports_the_sync_layer_only_in_its_two_seams():
    for path in sorted((ROOT / "core").rglob("*.py")):
        sync = [name for name in _imports(path) if name.split(".")[0] in SYNC_PACKAGES]
        if str(path.relative_to(ROOT)) in SEAMS:
            assert all(name.startswith("migrator.") for name in sync), path
        else:
            assert sync == [], f"{path.relative_to(ROOT)} imports {sync}"


def test_domain_tests_do_not_import_the_sync_layer():
    for path in sorted((ROOT / "tests" / "domain").rglob("*.py")):
        offending = [name for name in _imports(path) if name.split(".")[0] in SYNC_PACKAGES]
        assert offending == [], f"{path.relative_to(ROOT)} imports {offending}"


def test_migrations_of_domain_apps_do_not_reference_the_sync_layer():
    for app in DOMAIN_APPS:
        for path in sorted((ROOT / app / "migrations").glob("*.py")):
            assert not [n for n in _imports(path) if n.split(".")[0] in SYNC_PACKAGES], path
