"""The demo data of `make run` answers the README's and docs/api.md's examples with rows."""

import pytest

DEMO_ROWS = 200  # the Makefile's DEMO_ROWS


@pytest.mark.parametrize(
    "query",
    ["city=Leeds", "city=Leeds&number_of_employees__gte=50&ordering=name", "city__icontains=leeds"],
)
def test_documented_examples_find_demo_rows(cdms, api, query):
    cdms.store.seed_demo(DEMO_ROWS)
    response = api.get(f"/api/v1/organisations/?{query}")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows and all(row["city"] == "Leeds" for row in rows)
