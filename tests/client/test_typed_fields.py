"""The converters of every CRM 2011 attribute type: wire values, write bodies, domains, literals."""

from decimal import Decimal

import pytest

from cdms_api import fields, odata
from cdms_api.exceptions import CDMSUnexpectedResponseError, CDMSValueError

GUID = "7a4814f9-2c5e-4d7a-8f2b-9e2b1c3d4e5f"


@pytest.mark.parametrize(
    ("field", "wire", "value"),
    [
        (fields.DoubleField("Address1_Latitude"), 51.5, 51.5),
        (fields.DoubleField("Address1_Latitude"), 3, 3.0),
        (fields.DoubleField("Address1_Latitude"), None, None),
        (fields.Int64Field("new_BigCount"), "1099511627776", 2**40),
        (fields.MoneyField("Revenue", precision=2), {"Value": "12.50"}, Decimal("12.5")),
        (
            fields.ReferenceField("ParentCustomerId"),
            {"Id": GUID.upper(), "LogicalName": "contact"},
            f"contact/{GUID}",
        ),
        (fields.ReferenceField("OwnerId"), {"Id": None, "LogicalName": None, "Name": None}, None),
        (fields.OptionSetField("statecode"), {"Value": 1}, 1),
    ],
)
def test_from_cdms(field, wire, value):
    assert field.from_cdms(wire) == value


@pytest.mark.parametrize(
    ("field", "wire"),
    [
        (fields.DoubleField("Address1_Latitude"), "51.5"),
        (fields.DoubleField("Address1_Latitude"), True),
        (fields.ReferenceField("OwnerId"), {"Id": GUID}),
        (fields.ReferenceField("OwnerId"), {"Id": "nope", "LogicalName": "systemuser"}),
    ],
)
def test_from_cdms_refuses_what_the_type_never_sends(field, wire):
    with pytest.raises(CDMSUnexpectedResponseError, match=field.cdms_name):
        field.from_cdms(wire)


@pytest.mark.parametrize(
    ("field", "value", "wire"),
    [
        (fields.DoubleField("Address1_Latitude"), 51.5, 51.5),
        (fields.Int64Field("new_BigCount"), 2**40, "1099511627776"),
        (fields.DecimalField("ExchangeRate", precision=10), Decimal("1.2500000000"), "1.2500000000"),
        (fields.ReferenceField("ParentCustomerId"), f"contact/{GUID}", {"Id": GUID, "LogicalName": "contact"}),
        (fields.ReferenceField("OwnerId"), None, {"Id": None, "LogicalName": None}),
    ],
)
def test_to_cdms(field, value, wire):
    assert field.to_cdms(value) == wire


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        (fields.Int64Field("new_BigCount"), 2**63, "outside the CRM's big integer range"),
        (fields.DecimalField("ExchangeRate"), Decimal("1E+12"), "outside the CRM's decimal range"),
        (fields.MoneyField("Revenue"), Decimal("1E+15"), "outside the CRM's money range"),
        (fields.DoubleField("Address1_Latitude"), 1e12, "outside the CRM's floating point range"),
        (fields.DoubleField("Address1_Latitude"), float("nan"), "not a number the CRM can store"),
        (
            fields.ReferenceField("ParentCustomerId", targets=("account", "contact")),
            f"lead/{GUID}",
            "'lead' is not",
        ),
        (fields.ReferenceField("OwnerId"), "systemuser", "is not '<logical name>/<guid>'"),
    ],
)
def test_a_value_outside_the_crms_domain_is_refused_before_sending_naming_the_attribute(field, value, problem):
    assert problem in field.problem(value)
    with pytest.raises(CDMSValueError, match=f"attribute {field.cdms_name}: .*{problem[:10]}"):
        field.to_cdms(value)


def test_state_and_base_money_attributes_are_not_written():
    assert not fields.OptionSetField("statecode").writable
    assert not fields.OptionSetField("StatusCode").writable
    assert not fields.MoneyField("Revenue_Base").writable
    assert fields.MoneyField("Revenue").writable
    assert fields.OptionSetField("IndustryCode").writable


def test_a_double_is_filtered_with_a_double_literal_and_a_decimal_with_a_decimal_one():
    assert odata.literal(odata.Double(2.5)) == "2.5"
    assert odata.literal(odata.Double(3)) == "3.0"
    assert odata.literal(2.5) == "2.5M"
    assert fields.DoubleField("Address1_Latitude").literal(2) == "2.0"
    assert fields.ReferenceField("OwnerId").literal(f"systemuser/{GUID}") == f"guid'{GUID}'"
