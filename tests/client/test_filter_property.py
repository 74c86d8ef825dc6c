"""Any text used as an `eq` literal finds the record holding it: quoting and encoding are sound."""

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdms_api.fields import StringField

NAME = StringField("Name")
# Name holds up to 160 characters; "" is stored as null, so it cannot be found with `eq`.
names = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=160)


def _fold(text):
    # CRM compares Latin1_General_CI_AI: case- and accent-insensitive.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names)
def test_eq_filter_finds_exactly_the_record_holding_the_text(crm_client, crm, name):
    crm.reset()
    other = crm.store.insert("Account", {"Name": "other record"})
    key = crm_client.create("Account", {"Name": name})["AccountId"]
    query = f"{NAME.filter_path} eq {NAME.literal(name)}"
    found = [record for page in crm_client.list("Account", filter=query) for record in page]
    assert key in {r["AccountId"] for r in found}
    assert all(_fold(r["Name"]) == _fold(name) for r in found)
    assert other["AccountId"] not in {r["AccountId"] for r in found} or _fold(name) == _fold("other record")
