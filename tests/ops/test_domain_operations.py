"""Operating the 2016 domain: an import in order, `cdms_reconcile` over every entity, metrics and the sync page."""

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from cdms_api.emulator.seed import seed_demo
from interaction.models import Interaction
from metadata.models import Sector
from organisation.models import Organisation

ENTITIES = [
    "BusinessUnit", "optevia_sector", "optevia_country", "optevia_ukregion", "optevia_businesstype",
    "optevia_employeerange", "optevia_turnoverrange", "optevia_title", "optevia_contactrole",
    "optevia_interactioncommunicationchannel", "optevia_service", "optevia_servicedeliverystatus",
    "SystemUser", "Account", "Contact", "detica_interaction",
]  # fmt: skip


def run(name, *args):
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def imported(cdms, metrics):
    seed_demo(cdms.store, 8, seed=3)
    output = run("cdms_import", "--no-progress")
    return cdms, output


def test_an_import_loads_lists_teams_and_advisers_before_what_points_at_them(imported):
    cdms, output = imported
    table = [line.split()[0] for line in output.splitlines() if line.split() and line.split()[0] in ENTITIES]
    assert sorted(table) == sorted(ENTITIES)
    assert table.index("SystemUser") < table.index("detica_interaction")
    assert table.index("BusinessUnit") < table.index("SystemUser")
    assert max(table.index(e) for e in ENTITIES if e.startswith("optevia_")) < table.index("Account")
    pairs = [(Organisation, "Account"), (Interaction, "detica_interaction"), (Sector, "optevia_sector")]
    for model, entity in pairs:
        assert model.objects.skip_cdms().count() == cdms.store.count(entity), entity
    with_sector = Organisation.objects.skip_cdms().filter(sector__isnull=False).count()
    crm_count = 'SELECT COUNT(*) FROM "Account" WHERE "optevia_Sector" IS NOT NULL'
    assert with_sector == cdms.store.select(crm_count)[0][0]


def test_reconcile_finds_every_entity_in_sync_after_an_import(imported):
    report = json.loads(run("cdms_reconcile", "--json"))
    assert sorted(entity["entity"] for entity in report["entities"]) == sorted(ENTITIES)
    assert all(entity["in_sync"] for entity in report["entities"]), report


def test_metrics_count_rows_of_every_entity(imported, metrics):
    for entity in ("detica_interaction", "optevia_sector", "SystemUser"):
        assert metrics.delta("cdms_rows_total", entity=entity, source="import", change="created") > 0, entity


def test_the_sync_page_lists_every_entity(imported, client):
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw"))
    page = client.get("/admin/migrator/syncstatus/")
    assert page.status_code == 200
    text = page.content.decode()
    assert all(entity in text for entity in ENTITIES)
