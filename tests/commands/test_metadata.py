"""cdms_metadata: the configured CRM's `$metadata`, saved for the emulator and `cdms_inspect` to read."""

import socket

import pytest
from django.core.management.base import CommandError

from cdms_api.emulator import Emulator
from cdms_api.emulator.edmx import load


def test_the_saved_document_is_the_crms_own_and_the_emulator_serves_it_again(cdms, run, tmp_path):
    target = tmp_path / "crm.edmx"
    out = run("cdms_metadata", "--save", str(target))
    assert target.read_bytes() == cdms.store.schema.document
    assert f"(17 entity types) to {target}" in out
    assert cdms.stats.requests == [("GET", "/XRMServices/2011/OrganizationData.svc/$metadata")]
    again = Emulator(metadata=target)
    assert set(again.store.schema.by_set) == set(cdms.store.schema.by_set)
    assert load(target).entities["Account"].attribute("optevia_Sector").targets == ("optevia_sector",)
    again.stop()


def test_an_unreachable_crm_is_a_clear_error_and_writes_nothing(cdms, run, settings, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.CDMS_BASE_URL = f"http://127.0.0.1:{sock.getsockname()[1]}"
    target = tmp_path / "crm.edmx"
    with pytest.raises(CommandError, match="Could not read the CRM's \\$metadata"):
        run("cdms_metadata", "--save", str(target))
    assert not target.exists()


def test_a_missing_folder_is_named(cdms, run, tmp_path):
    with pytest.raises(CommandError, match="the folder .*nowhere does not exist"):
        run("cdms_metadata", "--save", str(tmp_path / "nowhere" / "crm.edmx"))
