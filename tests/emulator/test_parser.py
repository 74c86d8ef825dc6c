"""The `$filter` tokenizer and recursive-descent parser, without HTTP."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdms_api.emulator.errors import CRMError
from cdms_api.emulator.filter_parser import Call, Compare, Literal, Logical, Member, Not, parse, tokenize
from cdms_api.emulator.filter_sql import compile_filter
from cdms_api.emulator.store import Store, entity_of

ACCOUNT = entity_of("Account")


def test_precedence_or_below_and_below_not_below_comparison():
    tree = parse("not A eq 1 or B eq 2 and C eq 3")
    assert tree == Logical(
        "or",
        Not(Compare("eq", Member(("A",)), Literal("int", 1))),
        Logical(
            "and",
            Compare("eq", Member(("B",)), Literal("int", 2)),
            Compare("eq", Member(("C",)), Literal("int", 3)),
        ),
    )


def test_parentheses_group():
    tree = parse("(A eq 1 or B eq 2) and C eq 3")
    assert tree.op == "and" and tree.left.op == "or"


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("'O''Brien'", Literal("string", "O'Brien")),
        ("12.5M", Literal("decimal", "12.5")),
        ("1.5d", Literal("double", "1.5")),
        ("-42", Literal("int", -42)),
        ("42L", Literal("int", 42)),
        ("true", Literal("bool", True)),
        ("null", Literal("null", None)),
        ("guid'7A4814F9-0000-0000-0000-000000000000'", Literal("guid", "7A4814F9-0000-0000-0000-000000000000")),
    ],
)
def test_literals(text, literal):
    assert parse(f"X eq {text}").right == literal


def test_datetime_literal_is_naive_utc():
    assert parse("X eq datetime'2016-01-01T10:20:30'").right.value.isoformat() == "2016-01-01T10:20:30"


def test_member_access_and_function_call():
    assert parse("ParentCustomerId/Id eq null").left == Member(("ParentCustomerId", "Id"))
    assert parse("substringof('a', Name)") == Call("substringof", (Literal("string", "a"), Member(("Name",))))


def test_tokenizer_keeps_positions():
    assert [t[0] for t in tokenize("Name eq 'a b'")] == ["word", "word", "string"]


@pytest.mark.parametrize(
    "text", ["", "A eq", "(A eq 1", "A eq 1)", "A eq 'x", "A eq 1 1", "A eq datetime'2016'", "A ! 1"]
)
def test_syntax_errors_are_400(text):
    with pytest.raises(CRMError) as raised:
        parse(text)
    assert raised.value.status == 400


def test_deep_nesting_is_400_not_a_crash():
    with pytest.raises(CRMError) as raised:
        parse("(" * 5000 + "A eq 1" + ")" * 5000)
    assert raised.value.status == 400


ALPHABET = st.sampled_from(
    [
        "Name",
        "NumberOfEmployees",
        "eq",
        "ne",
        "and",
        "or",
        "not",
        "(",
        ")",
        "'a'",
        "''",
        "1",
        "12.5M",
        "null",
        "true",
        ",",
        "/",
        "Id",
        "startswith",
        "year",
        "guid'x'",
        " ",
    ]
)


STORE = Store()


@settings(max_examples=150, deadline=None)
@given(st.lists(ALPHABET, max_size=12))
def test_any_token_soup_is_either_valid_sql_or_a_400(tokens):
    try:
        sql, params = compile_filter(ACCOUNT, parse(" ".join(tokens)))
    except CRMError as error:
        assert error.status == 400
    else:
        assert STORE.select(f'SELECT COUNT(*) FROM "Account" WHERE {sql}', params)[0][0] == 0


def test_a_long_or_chain_is_answered(crm, monkeypatch):
    import requests

    # Past IIS's default limits: this checks the parser, so raise them as a deployment may.
    monkeypatch.setattr(crm, "max_query_bytes", 100_000)
    monkeypatch.setattr(crm, "max_url_bytes", 100_000)
    terms = " or ".join(f"NumberOfEmployees eq {i}" for i in range(400))
    answer = requests.get(
        f"{crm.service_root}/AccountSet",
        params={"$filter": terms},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
