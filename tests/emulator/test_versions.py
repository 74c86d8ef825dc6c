"""The emulator sends VersionNumber as a real CRM may: a string (the default), a number, or null."""

from xml.etree import ElementTree as etree

import pytest

from cdms_api.emulator import Emulator
from cdms_api.emulator.__main__ import parse_args
from tests.emulator.wire import get, results

EDM = "{http://schemas.microsoft.com/ado/2007/05/edm}"


def test_version_numbers_are_strings_by_default_as_odata_v2_sends_an_int64(crm):
    key = crm.store.insert("Account", {"Name": "Acme"})["AccountId"]
    record = get(crm, f"AccountSet(guid'{key}')").json()["d"]
    assert isinstance(record["VersionNumber"], str) and int(record["VersionNumber"]) > 0
    assert parse_args([]).version_number == "string"


@pytest.mark.parametrize(("mode", "kind"), [("int", int), ("absent", type(None)), ("string", str)])
def test_each_mode_shapes_the_version_of_every_answer(crm, mode, kind):
    crm.version_number = mode
    key = crm.store.insert("Account", {"Name": "Acme"})["AccountId"]
    crm.store.insert("Contact", {"ParentCustomerId": {"Id": key, "LogicalName": "account"}})
    assert type(results(crm, "AccountSet")[0]["VersionNumber"]) is kind
    expanded = results(crm, "ContactSet", {"$expand": "contact_customer_accounts"})[0]
    assert type(expanded["contact_customer_accounts"]["VersionNumber"]) is kind
    assert type(crm.store.get("Account", key)["VersionNumber"]) is kind


def test_reset_restores_the_configured_mode(crm):
    crm.version_number = "absent"
    crm.reset()
    assert crm.version_number == "string"


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="version_number"):
        Emulator(version_number="float")
    assert parse_args(["--version-number", "absent"]).version_number == "absent"


def test_metadata_calls_version_number_an_int64(crm):
    document = etree.fromstring(get(crm, "$metadata", headers={}).content)
    types = {p.get("Type") for p in document.iter(f"{EDM}Property") if p.get("Name") == "VersionNumber"}
    assert types == {"Edm.Int64"}
