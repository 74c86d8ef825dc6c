"""Writes through the CRM: both sides change together or neither does; faults leave nothing behind."""

import pytest
from django.db import IntegrityError
from reversion.models import Version

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSError
from contact.models import Contact
from migrator.exceptions import BulkWriteError, NotSupportedError, ObjectsNotInSyncError
from organisation.models import Organisation
from tests.crm_records import later, seed_account

FAULTS = [
    pytest.param({"kind": "status", "status": 503, "count": 10}, id="503"),
    pytest.param({"kind": "status", "status": 500}, id="500"),
    pytest.param({"kind": "status", "status": 400}, id="400"),
    pytest.param({"kind": "status", "status": 401, "count": 10}, id="401"),
    pytest.param({"kind": "hang", "seconds": 5, "count": 10}, id="hang"),
    pytest.param({"kind": "html", "count": 10}, id="html"),
    pytest.param({"kind": "cut", "count": 10}, id="cut"),
]


@pytest.fixture
def fast_client(cdms, settings):
    settings.CDMS_TIMEOUT = 0.3
    return cdms


def local_state():
    return sorted(Organisation.objects.skip_cdms().values_list("cdms_pk", "name", "city", "modified"))


@pytest.mark.parametrize("fault", FAULTS)
def test_create_under_fault(fast_client, fault):
    before = local_state()
    fast_client.faults.add(method="POST", **fault)
    with pytest.raises(CDMSError):
        Organisation.objects.create(name="Acme")
    fast_client.faults.clear()
    assert local_state() == before
    assert fast_client.store.count("Account") == 0


@pytest.mark.parametrize("fault", FAULTS)
def test_create_whose_answer_is_lost_makes_one_record(fast_client, fault):
    fast_client.faults.add(method="POST", after=True, **{**fault, "count": 1})
    org = Organisation(name="Acme")
    try:
        org.save()
    except CDMSError:
        # Not retried (400, 500, 401...): the record that landed was looked up by its key and
        # removed; the instance is as before, and its retry makes the one record.
        assert fast_client.store.count("Account") == 0
        assert (org.pk, org.cdms_pk, org._state.adding) == (None, None, True)
        fast_client.faults.clear()
        org.save()
    assert fast_client.store.get("Account", org.cdms_pk)["Name"] == "Acme"
    assert fast_client.store.count("Account") == 1
    assert Organisation.objects.filter(name="Acme").count() == 1


@pytest.mark.parametrize("fault", FAULTS)
def test_update_under_fault(fast_client, fault):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    before = local_state()
    fast_client.faults.add(method="MERGE", **fault)
    org.city = "York"
    with pytest.raises(CDMSError):
        org.save()
    fast_client.faults.clear()
    assert local_state() == before
    assert fast_client.store.get("Account", org.cdms_pk)["Address1_City"] == "Leeds"


def test_update_whose_reread_fails_converges(fast_client):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    fast_client.faults.add(method="GET", kind="status", status=503, count=10)
    org.city = "York"
    org.save()  # the MERGE landed; the GET did not
    fast_client.faults.clear()
    assert Organisation.objects.get(pk=org.pk).city == "York"
    assert Organisation.objects.skip_cdms().get(pk=org.pk).modified == _crm_modified(fast_client, org)


def _crm_modified(crm, org):
    from cdms_api import odata

    return odata.parse_date(crm.store.get("Account", org.cdms_pk)["ModifiedOn"])


@pytest.mark.parametrize("fault", FAULTS)
def test_delete_under_fault(fast_client, fault):
    org = Organisation.objects.create(name="Acme")
    before = local_state()
    fast_client.faults.add(method="DELETE", **fault)
    with pytest.raises(CDMSError):
        org.delete()
    fast_client.faults.clear()
    assert local_state() == before
    assert fast_client.store.get("Account", org.cdms_pk) is not None


@pytest.mark.parametrize("fault", FAULTS)
def test_reads_under_fault(fast_client, fault):
    key = seed_account(fast_client, "Acme")
    org = Organisation.objects.get(cdms_pk=key)
    before = local_state()
    fast_client.faults.add(method="GET", **{**fault, "count": 10})
    with pytest.raises(CDMSError):
        Organisation.objects.get(pk=org.pk)
    with pytest.raises(CDMSError):
        list(Organisation.objects.filter(name="Acme"))
    fast_client.faults.clear()
    assert local_state() == before


def test_local_constraint_error_never_reaches_the_crm(cdms):
    org = Organisation.objects.create(name="Acme")
    twin = Organisation(name="Twin")
    twin.cdms_pk = org.cdms_pk  # clashes with a local unique key
    twin._state.adding = True
    with count_requests() as counter, pytest.raises(IntegrityError):
        twin.save(force_insert=True)
    assert counter.count == 0


def test_local_failure_after_create_is_compensated(cdms, monkeypatch, caplog):
    from migrator.write import writer as writes

    def broken(instance, record, using, *vouched_at):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writes, "store", broken)
    with pytest.raises(RuntimeError):
        Organisation.objects.create(name="Acme")
    assert cdms.store.count("Account") == 0
    assert Organisation.objects.skip_cdms().count() == 0
    assert "compensated" in caplog.text


def test_local_failure_after_update_merges_the_old_values_back(cdms, monkeypatch):
    from migrator.write import writer as writes

    org = Organisation.objects.create(name="Acme", city="Leeds")
    monkeypatch.setattr(writes, "store", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    org.city = "York"
    with pytest.raises(RuntimeError):
        org.save()
    assert cdms.store.get("Account", org.cdms_pk)["Address1_City"] == "Leeds"
    assert Organisation.objects.get(pk=org.pk).city == "Leeds"


def test_contact_with_organisation_round_trips(cdms):
    org = Organisation.objects.create(name="Acme")
    contact = Contact.objects.create(first_name="Ann", last_name="Lee", organisation=org)
    record = cdms.store.get("Contact", contact.cdms_pk)
    assert record["ParentCustomerId"]["Id"] == org.cdms_pk
    contact.organisation = None
    contact.save()
    assert cdms.store.get("Contact", contact.cdms_pk)["ParentCustomerId"]["Id"] is None


def test_contact_of_a_local_only_organisation_is_refused(cdms):
    org = Organisation(name="Local")
    org.save(skip_cdms=True)
    with count_requests() as counter, pytest.raises(ValueError, match="not in the CRM"):
        Contact.objects.create(first_name="Ann", organisation=org)
    assert counter.count == 0


def test_one_revision_per_save_with_the_user(cdms, django_user_model):
    from reversion import revisions as reversion

    user = django_user_model.objects.create(username="editor")
    with reversion.create_revision():
        reversion.set_user(user)
        org = Organisation.objects.create(name="Acme")
    org.name = "Acme 2"
    org.save()
    versions = Version.objects.get_for_object(org)
    assert [v.field_dict["name"] for v in versions] == ["Acme 2", "Acme"]
    assert versions[1].revision.user == user
    assert versions[0].field_dict["modified"] == Organisation.objects.skip_cdms().get(pk=org.pk).modified


def test_reverting_a_version_pushes_to_the_crm(cdms):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    org.city = "York"
    org.save()
    old = Version.objects.get_for_object(org)[1]
    with count_requests() as counter:
        old.revert()
    assert [r.method for r in counter.requests] == ["MERGE", "GET"]
    assert cdms.store.get("Account", org.cdms_pk)["Address1_City"] == "Leeds"
    assert Organisation.objects.get(pk=org.pk).city == "Leeds"


def test_bulk_create(cdms, settings):
    settings.CDMS_WRITE_CONCURRENCY = 4
    with count_requests() as counter:
        made = Organisation.objects.bulk_create([Organisation(name=f"Firm {i}") for i in range(20)])
    assert counter.count == 20
    assert len(made) == 20 and all(o.pk and o.modified for o in made)
    assert cdms.store.count("Account") == 20


def test_bulk_create_reports_failed_rows(cdms):
    cdms.faults.add(kind="status", status=400, method="POST", count=2)
    with pytest.raises(BulkWriteError) as err:
        Organisation.objects.bulk_create([Organisation(name=f"Firm {i}") for i in range(6)])
    assert len(err.value.failures) == 2 and len(err.value.succeeded) == 4
    assert cdms.store.count("Account") == 4
    assert sorted(Organisation.objects.skip_cdms().values_list("cdms_pk", flat=True)) == sorted(
        o.cdms_pk for o in err.value.succeeded
    )


def test_queryset_update_and_delete(cdms):
    for i in range(8):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=i)
    with count_requests() as counter:
        assert Organisation.objects.filter(number_of_employees__lt=5).update(city="Hull") == 5
    assert [r.method for r in counter.requests].count("MERGE") == 5
    assert counter.count == 1 + 5 + 1  # read, merges, one batched re-read
    assert Organisation.objects.filter(city="Hull").count() == 5
    assert sum(1 for k in _keys(cdms) if cdms.store.get("Account", k).get("Address1_City") == "Hull") == 5
    count, _ = Organisation.objects.filter(city="Hull").delete()
    assert count == 5 and cdms.store.count("Account") == 3


def _keys(cdms):
    return Organisation.objects.skip_cdms().values_list("cdms_pk", flat=True)


def test_queryset_update_reports_failed_rows(cdms):
    for i in range(4):
        seed_account(cdms, f"Firm {i}", NumberOfEmployees=1)
    list(Organisation.objects.all())
    cdms.faults.add(kind="status", status=400, method="MERGE", count=1)
    with pytest.raises(BulkWriteError) as err:
        Organisation.objects.all().update(city="Hull")
    assert len(err.value.failures) == 1
    assert Organisation.objects.skip_cdms().filter(city="Hull").count() == 3
    assert Organisation.objects.filter(city="Hull").count() == 3


def test_update_with_an_expression_is_refused(cdms):
    from django.db.models import F

    with pytest.raises(NotSupportedError, match="update"):
        Organisation.objects.all().update(number_of_employees=F("number_of_employees") + 1)


def test_a_failed_write_inside_an_outer_revision_records_no_version(cdms):
    from reversion import revisions as reversion

    org = Organisation.objects.create(name="Acme", city="Leeds")
    cdms.faults.add(kind="status", status=500, method="MERGE")
    with reversion.create_revision():  # like the request middleware, which outlives the error
        org.city = "Hull"
        with pytest.raises(CDMSError):
            org.save()
    assert [v.field_dict["city"] for v in Version.objects.get_for_object(org)] == ["Leeds"]
    cdms.faults.add(kind="status", status=500, method="POST")
    with reversion.create_revision(), pytest.raises(CDMSError):
        Organisation.objects.create(name="Never")
    assert not Version.objects.filter(object_repr="Never").exists()


def test_save_with_update_fields_sends_only_those(cdms):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    org.name = "Not saved"
    org.city = "York"
    with count_requests() as counter:
        org.save(update_fields=["city"])
    assert [r.method for r in counter.requests] == ["MERGE", "GET"]
    record = cdms.store.get("Account", org.cdms_pk)
    assert (record["Name"], record["Address1_City"]) == ("Acme", "York")
    assert Organisation.objects.get(pk=org.pk).name == "Acme"


def test_queryset_update_of_local_only_and_crm_rows(cdms):
    Organisation(name="Local", number_of_employees=1).save(skip_cdms=True)
    seed_account(cdms, "Remote", NumberOfEmployees=1)
    with count_requests() as counter:
        assert Organisation.objects.filter(number_of_employees=1).update(city="Hull") == 2
    assert [r.method for r in counter.requests] == ["GET", "MERGE", "GET"]
    assert sorted(Organisation.objects.skip_cdms().values_list("name", "city")) == [
        ("Local", "Hull"),
        ("Remote", "Hull"),
    ]
    remote = Organisation.objects.skip_cdms().get(name="Remote")
    assert cdms.store.get("Account", remote.cdms_pk)["Address1_City"] == "Hull"
    assert remote.modified == _crm_modified(cdms, remote)


def test_bulk_update_sends_the_named_fields(cdms):
    orgs = Organisation.objects.bulk_create([Organisation(name=f"Firm {i}", city="Leeds") for i in range(3)])
    for org in orgs:
        org.city, org.name = "York", "Unsent"
    with count_requests() as counter:
        assert Organisation.objects.bulk_update(orgs, ["city"]) == 3
    assert [r.method for r in counter.requests].count("MERGE") == 3
    assert {cdms.store.get("Account", o.cdms_pk)["Address1_City"] for o in orgs} == {"York"}
    assert set(Organisation.objects.values_list("name", flat=True)) == {"Firm 0", "Firm 1", "Firm 2"}


def test_bulk_update_leaves_out_a_row_another_process_deleted_since_it_was_read(cdms):
    kept, gone = Organisation.objects.bulk_create([Organisation(name="Kept"), Organisation(name="Gone")])
    Organisation.objects.skip_cdms().filter(pk=gone.pk).delete()  # another process, locally only
    kept.city = gone.city = "York"
    with count_requests() as counter:
        assert Organisation.objects.bulk_update([kept, gone], ["city"]) == 1
    assert [r.method for r in counter.requests].count("MERGE") == 1
    assert cdms.store.get("Account", kept.cdms_pk)["Address1_City"] == "York"
    assert cdms.store.get("Account", gone.cdms_pk)["Address1_City"] is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_of_different_fields_lose_nothing(cdms):
    import threading

    from django.db import connection

    org = Organisation.objects.create(name="Acme", city="Leeds", number_of_employees=1)
    first, second = Organisation.objects.get(pk=org.pk), Organisation.objects.get(pk=org.pk)
    first.city = "York"
    second.number_of_employees = 99
    errors = []

    def save(instance):
        try:
            instance.save()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(instance,)) for instance in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    record = cdms.store.get("Account", org.cdms_pk)
    assert (record["Address1_City"], record["NumberOfEmployees"]) == ("York", 99)
    fresh = Organisation.objects.get(pk=org.pk)
    assert (fresh.city, fresh.number_of_employees) == ("York", 99)
    assert fresh.modified == _crm_modified(cdms, fresh)


def _changed_locally(org):
    """Change an organisation's row bypassing the CRM, so that it is newer than the CRM's record."""
    local = Organisation.objects.skip_cdms().get(pk=org.pk)
    local.name, local.modified = "Changed locally", later(3600)
    local.save(skip_cdms=True)


def test_a_save_over_a_local_row_newer_than_the_crms_is_refused_and_changes_neither_side(cdms):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    _changed_locally(org)
    org.city = "York"
    with count_requests() as counter, pytest.raises(ObjectsNotInSyncError, match=org.cdms_pk):
        org.save()
    assert [r.method for r in counter.requests] == ["MERGE", "GET", "MERGE"]  # the last puts Leeds back
    assert cdms.store.get("Account", org.cdms_pk)["Address1_City"] == "Leeds"
    row = Organisation.objects.skip_cdms().get(pk=org.pk)
    assert (row.name, row.city) == ("Changed locally", "Leeds")


def test_the_api_answers_409_for_a_write_over_a_local_row_newer_than_the_crms(cdms, api):
    org = Organisation.objects.create(name="Acme", city="Leeds")
    _changed_locally(org)
    response = api.patch(f"/api/v1/organisations/{org.pk}/", {"city": "York"}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "cdms_out_of_sync"
    assert cdms.store.get("Account", org.cdms_pk)["Address1_City"] == "Leeds"
    assert Organisation.objects.skip_cdms().get(pk=org.pk).name == "Changed locally"
