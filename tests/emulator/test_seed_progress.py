"""The emulator's `--seed-demo` says how far it has got: rows built, writing, indexing, totals."""

import subprocess
import sys

from cdms_api.emulator import Emulator, seed
from tests.emulator.test_cli import ROOT, free_port


def test_seeding_reports_every_so_many_rows_then_writing_indexing_and_the_totals(monkeypatch):
    monkeypatch.setattr(seed, "PROGRESS_EVERY", 10)
    lines = []
    emu = Emulator()
    emu.store.seed_demo(25, progress=lines.append)
    contacts = emu.store.count("Contact")
    # The reference lists, teams and advisers, the interactions (and the CRM's own system user).
    others = sum(emu.store.count(e.name) for e in emu.store.schema if e.name not in ("Account", "Contact")) - 1
    assert lines[:6] == [
        "seeding: organisations built, 10 of 25 (40 %)",
        "seeding: organisations built, 20 of 25 (80 %)",
        "seeding: organisations built, 25 of 25 (100 %)",
        "seeding: organisations' contacts and interactions built, 10 of 25 (40 %)",
        "seeding: organisations' contacts and interactions built, 20 of 25 (80 %)",
        "seeding: organisations' contacts and interactions built, 25 of 25 (100 %)",
    ]
    totals = f"25 organisations and {contacts} contacts (and {others} other records)"
    assert lines[6:8] == [f"seeding: writing {totals}", "seeding: indexing"]
    assert lines[8].startswith(f"seeded {totals} in ") and len(lines) == 9


def test_the_command_line_reports_the_seeding_on_standard_error(tmp_path):
    args = ["--port", str(free_port()), "--seed-demo", "5", "--data", str(tmp_path / "d.sqlite3")]
    process = subprocess.Popen(
        [sys.executable, "-m", "cdms_api.emulator", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert "serving" in process.stdout.readline()  # the URL is still the first line of its output
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "seeding: organisations built, 5 of 5 (100 %)" in err
    assert "seeded 5 organisations and" in err
