"""OData text: literals, query strings, /Date()/ values and names, with no network."""

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdms_api import odata

GUID = "7a4814f9-2c5e-4d7a-8f2b-9e2b1c3d4e5f"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-7, "-7"),
        (Decimal("12.5"), "12.5M"),
        (Decimal("1E+3"), "1000M"),
        (12.5, "12.5M"),
        ("O'Brien", "'O''Brien'"),
        ("", "''"),
        (uuid.UUID(GUID), f"guid'{GUID}'"),
        (datetime(2016, 1, 1, tzinfo=UTC), "datetime'2016-01-01T00:00:00'"),
        (datetime(2016, 1, 1, 1, 2, 3, 999999, tzinfo=UTC), "datetime'2016-01-01T01:02:03'"),
        (datetime(2016, 7, 1, 12, tzinfo=timezone(timedelta(hours=2))), "datetime'2016-07-01T10:00:00'"),
    ],
)
def test_literal(value, expected):
    assert odata.literal(value) == expected


def test_naive_datetime_is_rejected_with_a_clear_error():
    with pytest.raises(ValueError, match="naive datetime"):
        odata.literal(datetime(2016, 1, 1))
    with pytest.raises(ValueError, match="naive datetime"):
        odata.format_date(datetime(2016, 1, 1))


def test_date_and_unknown_types_are_rejected():
    with pytest.raises(TypeError):
        odata.literal(date(2016, 1, 1))
    with pytest.raises(TypeError):
        odata.literal(object())
    with pytest.raises(ValueError):
        odata.literal(Decimal("NaN"))


def test_guid_literal_validates():
    assert odata.guid_literal(GUID.upper()) == f"guid'{GUID}'"
    with pytest.raises(ValueError, match="not a GUID"):
        odata.guid_literal("1234')or(true")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/Date(1451606400000)/", datetime(2016, 1, 1, tzinfo=UTC)),
        ("/Date(1451606400000+0000)/", datetime(2016, 1, 1, tzinfo=UTC)),
        ("/Date(1451606400000-0500)/", datetime(2016, 1, 1, tzinfo=UTC)),
        ("/Date(-86400000)/", datetime(1969, 12, 31, tzinfo=UTC)),
        ("/Date(0)/", datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_date(text, expected):
    parsed = odata.parse_date(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["2016-01-01", "/Date(abc)/", "/Date(1)", "", None, 1451606400000])
def test_parse_date_rejects_other_text(text):
    with pytest.raises(ValueError):
        odata.parse_date(text)


def test_format_date_is_utc_whole_seconds():
    moment = datetime(2016, 1, 1, 2, 0, 0, 750000, tzinfo=timezone(timedelta(hours=2)))
    assert odata.format_date(moment) == "/Date(1451606400000)/"
    assert odata.format_date(datetime(1969, 12, 31, tzinfo=UTC)) == "/Date(-86400000)/"


@given(st.datetimes(timezones=st.just(UTC)))
def test_format_then_parse_round_trips_to_the_second(moment):
    assert odata.parse_date(odata.format_date(moment)) == moment.replace(microsecond=0)


def test_names():
    assert odata.entity_set("Account") == "AccountSet"
    assert odata.key_attribute("Contact") == "ContactId"
    assert odata.key_path("Account", GUID.upper()) == f"AccountSet(guid'{GUID}')"
    with pytest.raises(ValueError):
        odata.key_path("Account", "x")


def test_query_string_encoding():
    query = odata.query_string(
        filter="Name eq 'a+b&c#d''e%f é'", orderby=["Name", "CreatedOn desc"], select=["Name"], top=5, skip=0
    )
    assert query == (
        "$filter=Name%20eq%20'a%2Bb%26c%23d''e%25f%20%C3%A9'"
        "&$orderby=Name,CreatedOn%20desc&$select=Name&$top=5&$skip=0"
    )


@given(st.text())
def test_query_string_filter_survives_decoding(text):
    literal = odata.literal(text)
    query = odata.query_string(filter=f"Name eq {literal}")
    assert query.startswith("$filter=")
    assert not set(query[len("$filter=") :]) & set(" +&#?")
    assert unquote(query[len("$filter=") :]) == f"Name eq {literal}"


def test_query_string_leaves_out_empty_options_and_rejects_unknown():
    assert odata.query_string(filter=None, select=[], top=None) == ""
    assert odata.query_string(expand=["a", "b"]) == "$expand=a,b"
    with pytest.raises(TypeError, match="format"):
        odata.query_string(format="json")
    with pytest.raises(ValueError):
        odata.query_string(top=-1)
