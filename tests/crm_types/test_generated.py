"""A model `cdms_inspect` writes for an entity no other test names, from the CRM's own `$metadata`,
syncs reads, writes and follower rounds exactly as written: nothing in the sync layer, the client
or the emulator knows `optevia_servicedelivery`."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from reversion import revisions as reversion

from cdms_api.counting import count_requests
from migrator import cdms_migrator
from migrator.field_domains import teach_fields
from migrator.mirror.follower import follow
from organisation.models import Organisation

APP = "crm_types"


def _generated(tmp_path):
    """Run `cdms_inspect` against the configured CRM and load what it wrote, as an app would."""
    call_command(
        "cdms_inspect", "optevia_servicedeliverySet", "--app", APP, "--out", str(tmp_path), stdout=io.StringIO()
    )
    models_text = (tmp_path / "models.py").read_text()
    # Only what makes a module outside an installed app a model module: its app label.
    models_text = models_text.replace(
        "    objects = CRMManager()", f'    objects = CRMManager()\n\n    class Meta:\n        app_label = "{APP}"'
    )
    namespace = {"__name__": f"tests.{APP}.generated"}
    exec(compile(models_text, str(tmp_path / "models.py"), "exec"), namespace)  # noqa: S102
    exec(compile((tmp_path / "cdms_migrator.py").read_text(), "cdms_migrator.py", "exec"), {"__name__": "m"})  # noqa: S102
    teach_fields()
    return namespace["Servicedelivery"]


@pytest.fixture
def deliveries(cdms, tmp_path):
    """The generated model, its table and its mapping, for this test only."""
    model = _generated(tmp_path)
    with connection.schema_editor() as editor:
        editor.create_model(model)
    try:
        yield model
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(model)
        cdms_migrator._registry.pop(f"{APP}.servicedelivery", None)
        reversion.unregister(model)
        del apps.all_models[APP]["servicedelivery"]
        apps.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_a_generated_model_syncs_reads_writes_and_follower_rounds_as_written(deliveries, cdms):
    acme = Organisation.objects.create(name="Acme")
    delivery = deliveries(name="Export advice", organisation=acme, fyvalue1=Decimal("10.5"), casestudy=1)
    with count_requests() as counter:
        delivery.save()
    # The CRM's answer names its system user as owner and creator: advisers are synced, so the
    # one the mirror lacks is fetched by key in the same write.
    sent = [(r.method, r.entity_set) for r in counter.requests]
    assert sent == [("POST", "optevia_servicedeliverySet"), ("GET", "SystemUserSet")]
    record = cdms.store.get("optevia_servicedelivery", delivery.cdms_pk)
    assert (record["optevia_name"], record["optevia_Organisation"]["Id"]) == ("Export advice", acme.cdms_pk)
    assert (Decimal(record["detica_fyvalue1"]["Value"]), record["detica_casestudy"]) == (
        Decimal("10.5"),
        {"Value": 1},
    )

    delivery.name = "Export advice, given"
    with count_requests() as counter:
        delivery.save()
    assert [r.method for r in counter.requests] == ["MERGE", "GET"]

    with count_requests() as counter:
        found = deliveries.objects.filter(fyvalue1__gte=10, casestudy=1).get()
    assert counter.count == 1 and found.name == "Export advice, given" and found.organisation == acme

    later = timezone.now() + dt.timedelta(seconds=2)
    cdms.store.update("optevia_servicedelivery", delivery.cdms_pk, {"optevia_name": "Renamed in the CRM"}, later)
    with count_requests() as counter:
        follow(deliveries, "test-follower")
    assert counter.count == 1
    assert deliveries.objects.skip_cdms().get(pk=delivery.pk).name == "Renamed in the CRM"

    with count_requests() as counter:
        deliveries.objects.get(pk=delivery.pk).delete()
    assert [r.method for r in counter.requests] == ["GET", "DELETE"]
    assert cdms.store.get("optevia_servicedelivery", delivery.cdms_pk) is None
