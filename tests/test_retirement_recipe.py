"""docs/retiring-cdms.md shows the same recipe that `make retire-check` applies (.ci/retire.py)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_LINES = {line.strip() for line in (ROOT / "docs" / "retiring-cdms.md").read_text().splitlines()}


def _script():
    spec = importlib.util.spec_from_file_location("retire", ROOT / ".ci" / "retire.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RETIRE = _script()


@pytest.mark.parametrize(("path", "before", "after"), RETIRE.EDITS, ids=lambda value: str(value)[:40])
def test_each_seam_edit_is_shown_verbatim(path, before, after):
    doc = (ROOT / "docs" / "retiring-cdms.md").read_text()
    assert f"`{path}`" in doc
    for line in [*before.splitlines(), *after.splitlines()]:
        assert not line.strip() or line.strip() in DOC_LINES, line


def test_the_settings_block_and_the_deletions_are_named():
    doc = (ROOT / "docs" / "retiring-cdms.md").read_text()
    path, first, last = RETIRE.CRM_BLOCK
    assert f"`{path}`" in doc and f"`{first}" in doc and f"`{last.strip()}`" in doc
    for name in [*RETIRE.DELETED, *RETIRE.KEPT_TESTS, "cdms_migrator.py"]:
        assert f"`{name}" in doc, name


def test_the_edits_match_the_tree_exactly_once():
    for path, before, _ in RETIRE.EDITS:
        assert (ROOT / path).read_text().count(before) == 1, (path, before)
    path, first, last = RETIRE.CRM_BLOCK
    text = (ROOT / path).read_text()
    assert text.count(first) == 1 and text.index(first) < text.index(last)


def test_the_recipe_deletes_the_sync_layer_and_keeps_the_domain_tests(tmp_path):
    for name in [
        "migrator/x.py",
        "organisation/cdms_migrator.py",
        "tests/api/test_x.py",
        "tests/domain/test_x.py",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "tests/conftest.py").write_text("")
    deleted = {str(path.relative_to(tmp_path)) for path in RETIRE.deleted_paths(tmp_path)}
    assert deleted == {"migrator", "organisation/cdms_migrator.py", "tests/api"}
