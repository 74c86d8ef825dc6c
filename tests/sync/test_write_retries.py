"""A failed write leaves the instance retryable; stale instances, foreign keys and bulk failures stay right."""

import pytest
from django.db import models
from reversion.models import Version

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSError
from contact.models import Contact
from migrator.exceptions import BulkWriteError
from migrator.write import bulk
from migrator.write import writer as writes
from organisation.models import Organisation
from tests.crm_records import seed_account


@pytest.fixture
def fast_client(cdms, settings):
    settings.CDMS_TIMEOUT = 0.3
    return cdms


def crm_city(crm, org):
    return crm.store.get("Account", org.cdms_pk)["Address1_City"]


def test_a_failed_delete_can_be_retried(cdms):
    org = Organisation.objects.create(name="Acme")
    pk, key = org.pk, org.cdms_pk
    cdms.faults.add(kind="status", status=500, method="DELETE")
    with pytest.raises(CDMSError):
        org.delete()
    assert (org.pk, org.cdms_pk, org._state.adding) == (pk, key, False)
    org.delete()
    assert cdms.store.get("Account", key) is None
    assert not Organisation.objects.skip_cdms().filter(pk=pk).exists()


def test_a_failed_create_can_be_retried_without_touching_another_row(cdms):
    org = Organisation(name="First")
    cdms.faults.add(kind="status", status=500, method="POST")
    with pytest.raises(CDMSError):
        org.save()
    assert (org.pk, org.cdms_pk, org._state.adding) == (None, None, True)
    # On SQLite the rolled-back row's id is handed out again: the retry must not overwrite it.
    other = Organisation.objects.create(name="Second")
    org.save()
    assert org.pk != other.pk
    names = dict(Organisation.objects.skip_cdms().values_list("pk", "name"))
    assert names == {other.pk: "Second", org.pk: "First"}
    assert {cdms.store.get("Account", o.cdms_pk)["Name"] for o in (org, other)} == {"First", "Second"}


def test_a_create_whose_answers_are_all_lost_makes_one_record_on_retry(fast_client):
    # Every request fails, the look-up of the key too: the key stays with the instance.
    fast_client.faults.add(kind="cut", after=True, count=20)
    org = Organisation(name="Acme")
    with pytest.raises(CDMSError):
        org.save()
    fast_client.faults.clear()
    assert fast_client.store.count("Account") == 1 and org.pk is None
    assert Organisation.objects.filter(name="Acme").count() == 1  # a read brings the record in
    org.save()
    assert fast_client.store.count("Account") == 1
    assert list(Organisation.objects.skip_cdms().values_list("pk", "cdms_pk")) == [(org.pk, org.cdms_pk)]


def test_a_create_that_lands_after_its_timeout_is_taken_over_by_the_retry(fast_client):
    fast_client.faults.add(kind="cut", after=True, method="POST", count=10)
    fast_client.faults.add(kind="status", status=503, method="GET", count=10)
    org = Organisation(name="Acme", city="Leeds")
    with pytest.raises(CDMSError):
        org.save()
    fast_client.faults.clear()
    org.city = "York"
    with count_requests() as counter:
        org.save()
    assert [r.method for r in counter.requests] == ["POST", "MERGE", "GET"]
    assert fast_client.store.count("Account") == 1
    assert crm_city(fast_client, org) == "York"


def test_saving_an_unchanged_stale_instance_keeps_the_fresh_row(cdms):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    stale = Organisation.objects.skip_cdms().get(pk=org.pk)
    org.city = "York"
    org.save()
    with count_requests() as counter:
        stale.save()
    assert counter.count == 0
    row = Organisation.objects.skip_cdms().get(pk=org.pk)
    assert (row.city, row.modified, row.cdms_version) == ("York", org.modified, org.cdms_version)
    assert Version.objects.get_for_object(org)[0].field_dict["city"] == "York"
    assert stale.city == "York"


def test_a_stale_instance_sends_and_writes_only_what_it_changed(fast_client):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    stale = Organisation.objects.skip_cdms().get(pk=org.pk)
    org.city = "York"
    org.save()
    stale.name = "Acme Ltd"
    fast_client.faults.add(kind="status", status=503, method="GET", count=10)
    stale.save()  # the MERGE lands, the re-read fails
    fast_client.faults.clear()
    row = Organisation.objects.skip_cdms().get(pk=org.pk)
    assert (row.name, row.city, row.modified) == ("Acme Ltd", "York", org.modified)
    assert crm_city(fast_client, org) == "York"


def test_update_fields_by_attname_reaches_the_crm(cdms):
    first, second = Organisation.objects.create(name="First"), Organisation.objects.create(name="Second")
    contact = Contact.objects.create(first_name="Ann", organisation=first)
    contact.organisation_id = second.pk
    with count_requests() as counter:
        contact.save(update_fields=["organisation_id"])
    assert [r.method for r in counter.requests] == ["MERGE", "GET"]
    assert cdms.store.get("Contact", contact.cdms_pk)["ParentCustomerId"]["Id"] == second.cdms_pk


def test_queryset_update_by_attname_reaches_the_crm(cdms):
    first, second = Organisation.objects.create(name="First"), Organisation.objects.create(name="Second")
    contact = Contact.objects.create(first_name="Ann", organisation=first)
    assert Contact.objects.filter(pk=contact.pk).update(organisation_id=second.pk) == 1
    assert cdms.store.get("Contact", contact.cdms_pk)["ParentCustomerId"]["Id"] == second.cdms_pk
    assert Contact.objects.skip_cdms().get(pk=contact.pk).organisation_id == second.pk
    assert Contact.objects.filter(pk=contact.pk).update(organisation=first) == 1
    assert cdms.store.get("Contact", contact.cdms_pk)["ParentCustomerId"]["Id"] == first.cdms_pk


def test_a_save_fetches_a_parent_that_is_not_local(cdms):
    contact = Contact.objects.create(first_name="Ann")
    parent = seed_account(cdms, "Elsewhere")  # another CRM user links the contact to a new account
    cdms.store.update("Contact", contact.cdms_pk, {"ParentCustomerId": {"Id": parent, "LogicalName": "account"}})
    contact.first_name = "Anne"
    contact.save()
    row = Contact.objects.skip_cdms().select_related("organisation").get(pk=contact.pk)
    assert row.organisation is not None and row.organisation.cdms_pk == parent
    assert row.organisation.name == "Elsewhere"


def test_a_compensated_save_sends_its_change_again_on_retry(cdms, monkeypatch):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    modified = org.modified
    store = writes.store
    monkeypatch.setattr(writes, "store", lambda *a: (_ for _ in ()).throw(RuntimeError("disk full")))
    org.city = "York"
    with pytest.raises(RuntimeError):
        org.save()
    assert crm_city(cdms, org) == "Leeds" and org.modified == modified
    monkeypatch.setattr(writes, "store", store)
    with count_requests() as counter:
        org.save()
    assert [r.method for r in counter.requests] == ["MERGE", "GET"]
    assert crm_city(cdms, org) == "York"
    assert Organisation.objects.skip_cdms().get(pk=org.pk).city == "York"


def test_bulk_create_compensates_a_local_failure(cdms, monkeypatch):
    monkeypatch.setattr(bulk, "record_versions", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    orgs = [Organisation(name=f"Firm {i}") for i in range(4)]
    with pytest.raises(RuntimeError):
        Organisation.objects.bulk_create(orgs)
    assert cdms.store.count("Account") == 0
    assert Organisation.objects.skip_cdms().count() == 0
    assert all(o.pk is None and o.cdms_pk is None for o in orgs)


def test_queryset_update_compensates_a_local_failure(cdms, monkeypatch):
    orgs = Organisation.objects.bulk_create([Organisation(name=f"Firm {i}", city="Leeds") for i in range(3)])
    monkeypatch.setattr(bulk, "reconcile_page", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        Organisation.objects.all().update(city="York")
    assert {crm_city(cdms, o) for o in orgs} == {"Leeds"}
    assert set(Organisation.objects.skip_cdms().values_list("city", flat=True)) == {"Leeds"}


def test_queryset_delete_compensates_a_local_failure(cdms, monkeypatch):
    orgs = Organisation.objects.bulk_create([Organisation(name=f"Firm {i}", city="Leeds") for i in range(3)])

    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(models.QuerySet, "delete", broken)
    with pytest.raises(RuntimeError):
        Organisation.objects.all().delete()
    monkeypatch.undo()
    assert {cdms.store.get("Account", o.cdms_pk)["Name"] for o in orgs} == {"Firm 0", "Firm 1", "Firm 2"}
    assert Organisation.objects.skip_cdms().count() == 3
    assert Organisation.objects.count() == 3


def test_bulk_failures_are_reported_in_one_shape(cdms):
    orgs = Organisation.objects.bulk_create([Organisation(name=f"Firm {i}") for i in range(3)])
    cdms.faults.add(kind="status", status=400, method="MERGE")
    with pytest.raises(BulkWriteError) as updated:
        Organisation.objects.all().update(city="Hull")
    cdms.faults.add(kind="status", status=400, method="DELETE")
    with pytest.raises(BulkWriteError) as deleted:
        Organisation.objects.all().delete()
    for err in (updated.value, deleted.value):
        ((failed, exc),) = err.failures
        assert isinstance(failed, Organisation) and isinstance(exc, CDMSError)
        assert all(isinstance(o, Organisation) for o in err.succeeded) and len(err.succeeded) == 2
    assert Organisation.objects.count() == 1 and cdms.store.count("Account") == 1
    assert {o.cdms_pk for o in orgs} >= {deleted.value.failures[0][0].cdms_pk}


def test_a_bulk_create_whose_answers_are_all_lost_makes_one_record_each_on_retry(fast_client):
    fast_client.faults.add(kind="cut", after=True, method="POST", count=30)
    fast_client.faults.add(kind="status", status=503, method="GET", count=30)
    orgs = [Organisation(name=f"Firm {i}") for i in range(3)]
    with pytest.raises(BulkWriteError) as err:
        Organisation.objects.bulk_create(orgs)
    fast_client.faults.clear()
    assert len(err.value.failures) == 3 and all(o.pk is None and o.cdms_pk is None for o in orgs)
    assert Organisation.objects.count() == 3  # a read brings the records that landed in
    assert Organisation.objects.bulk_create(orgs) == orgs
    assert fast_client.store.count("Account") == 3
    rows = sorted(Organisation.objects.skip_cdms().values_list("pk", "cdms_pk"))
    assert rows == sorted((o.pk, o.cdms_pk) for o in orgs)
