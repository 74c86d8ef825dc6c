"""VersionNumber is an Edm.Int64: OData v2 sends it as a string, some deployments send null."""

import pytest

from cdms_api.exceptions import CDMSUnexpectedResponseError
from cdms_api.fields import Int64Field

VERSION = Int64Field("VersionNumber")


@pytest.mark.parametrize(
    ("wire", "value"),
    [("1047332", 1047332), (1047332, 1047332), (None, None), ("-5", -5), (str(2**63 - 1), 2**63 - 1)],
)
def test_an_int64_reads_from_a_string_a_number_or_null(wire, value):
    assert VERSION.from_cdms(wire) == value


@pytest.mark.parametrize("wire", ["1.5", "", " 7", "0x10", "abc", str(2**63), True, 1.0, [1]])
def test_an_int64_that_is_not_a_whole_number_in_range_names_the_attribute(wire):
    with pytest.raises(CDMSUnexpectedResponseError, match="VersionNumber"):
        VERSION.from_cdms(wire)


@pytest.mark.parametrize(("mode", "expected"), [("string", str), ("int", int), ("absent", type(None))])
def test_records_read_through_the_client_carry_the_version_as_the_emulator_sends_it(
    crm, crm_client, mode, expected
):
    crm.version_number = mode
    record = crm_client.create("Account", {"Name": "Acme"})
    fetched = crm_client.get("Account", record["AccountId"])
    assert type(fetched["VersionNumber"]) is expected
    assert type(next(crm_client.list("Account"))[0]["VersionNumber"]) is expected
    if mode != "absent":
        assert VERSION.from_cdms(fetched["VersionNumber"]) == int(
            crm.store.select('SELECT "VersionNumber" FROM "Account"')[0][0]
        )
