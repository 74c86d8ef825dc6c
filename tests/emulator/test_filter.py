"""`$filter`: operators, functions, members, literals, CI/AI strings, null semantics, bad filters."""

import pytest

from cdms_api import crm_codes
from tests.emulator.wire import assert_crm_error, get, results


@pytest.fixture
def accounts(crm):
    """A few accounts covering nulls, accents, quotes and numbers."""
    rows = [
        {"Name": "Acme", "NumberOfEmployees": 10, "optevia_ukorganisation": True},
        {"Name": "Acmé Holdings", "NumberOfEmployees": 200, "optevia_ukorganisation": False},
        {"Name": "O'Brien & Sons", "NumberOfEmployees": 50, "Revenue": {"Value": "12.5"}},
        {"Name": "Zeta 100%", "NumberOfEmployees": None, "StateCode": {"Value": 1}},
        {"Name": None, "NumberOfEmployees": 5, "optevia_LastVerified": "/Date(1451606400000)/"},
    ]
    return [crm.store.insert("Account", row) for row in rows]


def names(crm, expression, entity_set="AccountSet"):
    """Sorted names of the records matching `expression`."""
    found = results(crm, entity_set, {"$filter": expression})
    return sorted(r.get("Name") or "<null>" for r in found)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("NumberOfEmployees eq 50", ["O'Brien & Sons"]),
        ("NumberOfEmployees ne 50", ["<null>", "Acme", "Acmé Holdings"]),
        ("NumberOfEmployees gt 10", ["Acmé Holdings", "O'Brien & Sons"]),
        ("NumberOfEmployees ge 10", ["Acme", "Acmé Holdings", "O'Brien & Sons"]),
        ("NumberOfEmployees lt 10", ["<null>"]),
        ("NumberOfEmployees le 10", ["<null>", "Acme"]),
        ("10 lt NumberOfEmployees", ["Acmé Holdings", "O'Brien & Sons"]),
    ],
)
def test_comparison_operators(crm, accounts, expression, expected):
    assert names(crm, expression) == expected


def test_and_binds_tighter_than_or(crm, accounts):
    expression = "NumberOfEmployees eq 5 or NumberOfEmployees gt 10 and NumberOfEmployees lt 100"
    assert names(crm, expression) == ["<null>", "O'Brien & Sons"]


def test_parentheses_override_precedence(crm, accounts):
    expression = "(NumberOfEmployees eq 5 or NumberOfEmployees gt 10) and NumberOfEmployees lt 100"
    assert names(crm, expression) == ["<null>", "O'Brien & Sons"]
    expression = "(NumberOfEmployees eq 10 or NumberOfEmployees eq 200) and optevia_ukorganisation eq false"
    assert names(crm, expression) == ["Acmé Holdings"]


def test_not_negates_a_comparison(crm, accounts):
    assert names(crm, "not NumberOfEmployees gt 10") == ["<null>", "Acme"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("substringof('brien', Name)", ["O'Brien & Sons"]),
        ("startswith(Name, 'acm')", ["Acme", "Acmé Holdings"]),
        ("endswith(Name, 'SONS')", ["O'Brien & Sons"]),
        ("substringof('100%', Name)", ["Zeta 100%"]),
        ("substringof('_', Name)", []),
        ("startswith(Name, 'acm') eq false", ["O'Brien & Sons", "Zeta 100%"]),
        ("not startswith(Name, 'acm')", ["O'Brien & Sons", "Zeta 100%"]),
    ],
)
def test_string_functions(crm, accounts, expression, expected):
    assert names(crm, expression) == expected


def test_string_comparison_is_case_and_accent_insensitive(crm, accounts):
    assert names(crm, "Name eq 'ACME'") == ["Acme"]
    assert names(crm, "Name eq 'ACMÉ HOLDINGS'") == ["Acmé Holdings"]
    assert names(crm, "startswith(Name, 'ACME')") == ["Acme", "Acmé Holdings"]


def test_quote_doubled_in_string_literal(crm, accounts):
    assert names(crm, "Name eq 'O''Brien & Sons'") == ["O'Brien & Sons"]


def test_null_never_satisfies_eq_or_ne_against_a_value(crm, accounts):
    assert "<null>" not in names(crm, "Name ne 'Acme'")
    assert "<null>" not in names(crm, "not (Name eq 'Acme')")
    assert names(crm, "Name eq null") == ["<null>"]
    assert len(names(crm, "Name ne null")) == 4


def test_option_set_and_money_filtered_through_value(crm, accounts):
    assert names(crm, "StateCode/Value eq 1") == ["Zeta 100%"]
    assert names(crm, "Revenue/Value gt 12.4M") == ["O'Brien & Sons"]
    assert names(crm, "Revenue/Value eq 12.5M") == ["O'Brien & Sons"]


def test_lookup_filtered_through_id_and_null(crm, accounts):
    ref = {"Id": accounts[0]["AccountId"], "LogicalName": "account"}
    crm.store.insert("Contact", {"LastName": "In", "ParentCustomerId": ref})
    crm.store.insert("Contact", {"LastName": "Out"})
    found = results(crm, "ContactSet", {"$filter": f"ParentCustomerId/Id eq guid'{ref['Id'].upper()}'"})
    assert [c["LastName"] for c in found] == ["In"]
    found = results(crm, "ContactSet", {"$filter": "ParentCustomerId/Id eq null"})
    assert [c["LastName"] for c in found] == ["Out"]


def test_datetime_literal_is_utc(crm, accounts):
    assert names(crm, "optevia_LastVerified eq datetime'2016-01-01T00:00:00'") == ["<null>"]
    assert names(crm, "optevia_LastVerified lt datetime'2016-01-01T00:00:00'") == []


def test_boolean_literals(crm, accounts):
    assert names(crm, "optevia_ukorganisation eq true") == ["Acme"]


def test_key_filtered_by_guid_literal(crm, accounts):
    key = accounts[1]["AccountId"]
    assert names(crm, f"AccountId eq guid'{key}'") == ["Acmé Holdings"]


BAD_FILTERS = [
    "Name eq",
    "Name eq 'unterminated",
    "(Name eq 'a'",
    "Name eq 'a')",
    "Name eq 'a' and",
    "Name xx 'a'",
    "tolower(Name) eq 'a'",
    "toupper(Name) eq 'A'",
    "year(CreatedOn) eq 2016",
    "month(CreatedOn) eq 1",
    "length(Name) eq 4",
    "indexof(Name, 'a') eq 1",
    "round(NumberOfEmployees) eq 1",
    "NumberOfEmployees add 1 eq 2",
    "NumberOfEmployees mul 2 eq 2",
    "Name eq Name",
    "Nome eq 'a'",
    "NumberOfEmployees eq 'ten'",
    "ParentCustomerId eq null",
    "StateCode eq 0",
    "AccountId eq guid'1234'",
    "CreatedOn eq datetime'2016-1-1'",
    "NumberOfEmployees eq 99999999999",
    "substringof(Name, 'a')",
    "startswith(NumberOfEmployees, '1')",
    "Name gt null",
    "Name eq 'a' # 1",
]


@pytest.mark.parametrize("expression", BAD_FILTERS)
def test_malformed_or_unsupported_filter_is_400_with_crm_error(crm, expression):
    assert_crm_error(get(crm, "AccountSet", {"$filter": expression}), 400, crm_codes.BAD_REQUEST)
