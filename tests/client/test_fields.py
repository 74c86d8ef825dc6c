"""Field converters between Python values and CRM JSON, with no network."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cdms_api import fields
from cdms_api.exceptions import CDMSUnexpectedResponseError

GUID = "7a4814f9-2c5e-4d7a-8f2b-9e2b1c3d4e5f"
WHEN = datetime(2016, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "wire", "value"),
    [
        (fields.StringField("Name"), "Acme", "Acme"),
        (fields.StringField("Name"), None, ""),
        (fields.MemoField("Description"), "a\nb", "a\nb"),
        (fields.MemoField("Description"), None, ""),
        (fields.IntegerField("NumberOfEmployees"), 12, 12),
        (fields.IntegerField("NumberOfEmployees"), None, None),
        (fields.BooleanField("optevia_ukorganisation"), False, False),
        (fields.BooleanField("optevia_ukorganisation"), None, None),
        (fields.DecimalField("Rate"), "12.5000", Decimal("12.5")),
        (fields.DecimalField("Rate"), 3, Decimal(3)),
        (fields.MoneyField("Revenue"), {"Value": "12.0000"}, Decimal("12")),
        (fields.MoneyField("Revenue"), {"Value": None}, None),
        (fields.DateTimeField("ModifiedOn"), "/Date(1451606400000)/", WHEN),
        (fields.DateTimeField("ModifiedOn"), None, None),
        (fields.GuidField("AccountId"), GUID.upper(), GUID),
        (fields.LookupField("ParentCustomerId", "Account"), {"Id": GUID, "LogicalName": "account"}, GUID),
        (
            fields.LookupField("ParentCustomerId", "Account"),
            {"Id": None, "LogicalName": None, "Name": None},
            None,
        ),
        (fields.LookupField("ParentCustomerId", "Account"), None, None),
        (fields.OptionSetField("StateCode"), {"Value": 2}, 2),
        (fields.OptionSetField("StateCode"), {"Value": None}, None),
    ],
)
def test_from_cdms(field, wire, value):
    assert field.from_cdms(wire) == value


@pytest.mark.parametrize(
    ("field", "wire"),
    [
        (fields.StringField("Name"), 12),
        (fields.IntegerField("NumberOfEmployees"), "12"),
        (fields.IntegerField("NumberOfEmployees"), True),
        (fields.BooleanField("Flag"), 1),
        (fields.DecimalField("Rate"), "twelve"),
        (fields.DecimalField("Rate"), False),
        (fields.MoneyField("Revenue"), "12.00"),
        (fields.MoneyField("Revenue"), {"Amount": "1"}),
        (fields.DateTimeField("ModifiedOn"), "2016-01-01"),
        (fields.GuidField("AccountId"), "not-a-guid"),
        (fields.LookupField("ParentCustomerId", "Account"), GUID),
        (fields.LookupField("ParentCustomerId", "Account"), {"Id": 5}),
        (fields.OptionSetField("StateCode"), 2),
        (fields.OptionSetField("StateCode"), {"Value": "2"}),
    ],
)
def test_wrong_wire_types_raise_naming_the_attribute(field, wire):
    with pytest.raises(CDMSUnexpectedResponseError, match=field.cdms_name):
        field.from_cdms(wire)


@pytest.mark.parametrize(
    ("field", "value", "wire"),
    [
        (fields.StringField("Name"), "Acme", "Acme"),
        (fields.StringField("Name"), "", None),
        (fields.IntegerField("NumberOfEmployees"), 5, 5),
        (fields.BooleanField("Flag"), True, True),
        (fields.DecimalField("Rate"), Decimal("12.50"), "12.50"),
        (fields.MoneyField("Revenue"), Decimal("12.5"), {"Value": "12.5"}),
        (fields.MoneyField("Revenue"), None, {"Value": None}),
        (fields.DateTimeField("ModifiedOn"), WHEN, "/Date(1451606400000)/"),
        (fields.DateTimeField("ModifiedOn"), None, None),
        (fields.GuidField("AccountId"), GUID.upper(), GUID),
        (
            fields.LookupField("ParentCustomerId", "Account"),
            GUID,
            {"Id": GUID, "LogicalName": "account"},
        ),
        (fields.LookupField("ParentCustomerId", "Account"), None, {"Id": None, "LogicalName": None}),
        (fields.OptionSetField("StateCode"), 1, {"Value": 1}),
        (fields.OptionSetField("StateCode"), None, {"Value": None}),
    ],
)
def test_to_cdms(field, value, wire):
    assert field.to_cdms(value) == wire


def test_round_trip_through_the_wire():
    cases = [
        (fields.DecimalField("Rate"), Decimal("0.0001")),
        (fields.MoneyField("Revenue"), Decimal("99999.99")),
        (fields.DateTimeField("ModifiedOn"), WHEN),
        (fields.LookupField("ParentCustomerId", "Account"), GUID),
        (fields.OptionSetField("StateCode"), 0),
    ]
    for field, value in cases:
        assert field.from_cdms(field.to_cdms(value)) == value


def test_filter_paths_and_literals():
    assert fields.StringField("Name").filter_path == "Name"
    assert fields.LookupField("ParentCustomerId", "Account").filter_path == "ParentCustomerId/Id"
    assert fields.OptionSetField("StateCode").filter_path == "StateCode/Value"
    assert fields.MoneyField("Revenue").filter_path == "Revenue/Value"
    assert fields.StringField("Name").literal("O'Brien") == "'O''Brien'"
    assert fields.GuidField("AccountId").literal(GUID.upper()) == f"guid'{GUID}'"
    assert fields.LookupField("ParentCustomerId", "Account").literal(None) == "null"
    assert fields.DateTimeField("ModifiedOn").literal(WHEN) == "datetime'2016-01-01T00:00:00'"
    assert fields.MoneyField("Revenue").literal(Decimal("12.5")) == "12.5M"


def test_datetime_field_rejects_naive_and_non_datetimes():
    with pytest.raises(ValueError, match="naive"):
        fields.DateTimeField("ModifiedOn").to_cdms(datetime(2016, 1, 1))
    with pytest.raises(TypeError):
        fields.DateTimeField("ModifiedOn").to_cdms("2016-01-01")
