"""Rows in conflict (newer locally) found with their differences, and both ways to resolve one."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone
from reversion.models import Version

from cdms_api.counting import count_requests
from contact.models import Contact
from migrator.cdms_migrator import get_migrator
from migrator.mirror import entities
from migrator.mirror.state import Watermark
from migrator.ops import conflicts
from organisation.models import Organisation
from tests.crm_records import later, seed_account, seed_contact

PAGE = "/admin/migrator/syncstatus/"


def crm_values(crm, model, key):
    """The CRM record of a row, as model field values."""
    migrator = get_migrator(model)
    return migrator.from_cdms(crm.store.get(migrator.service, key))


def local_values(model, key):
    """The local row's mapped and system values (foreign keys by CRM key)."""
    row = model.objects.skip_cdms().get(cdms_pk=key)
    migrator = get_migrator(model)
    names = [*migrator.fields, "created", "modified", "cdms_version", "cdms_pk"]
    values = {name: getattr(row, name) for name in names}
    for name in migrator.lookup_fields():
        values[name] = getattr(values[name], "cdms_pk", None)
    return values


def change_locally(model, key, **values):
    """Change a row behind the CRM's back, with a local `modified` an hour ahead of the CRM's."""
    row = model.objects.skip_cdms().get(cdms_pk=key)
    for name, value in values.items():
        setattr(row, name, value)
    row.modified = later(3600)
    row.save(skip_cdms=True)


@pytest.fixture
def conflicted(cdms):
    """Three accounts and a contact read into the local database; two accounts and the contact
    then changed locally behind the CRM's back."""
    keys = [seed_account(cdms, name, Address1_City="Leeds") for name in ("Alpha", "Beta", "Gamma")]
    contact = seed_contact(cdms, "Ann", "Lee", account=keys[0])
    list(Organisation.objects.all())
    list(Contact.objects.all())
    change_locally(Organisation, keys[0], city="York")
    change_locally(Organisation, keys[1], name="Beta Local", number_of_employees=12)
    change_locally(Contact, contact, last_name="Local")
    return {"alpha": keys[0], "beta": keys[1], "gamma": keys[2], "contact": contact}


@pytest.fixture
def person(db):
    return User.objects.create_superuser("resolver", "resolver@example.test", "pass-1234")


def test_finding_conflicts_names_each_row_and_its_differences_in_two_requests(conflicted):
    with count_requests() as counter:
        found = conflicts.find(get_migrator(Organisation))
    assert counter.count == 2  # every key and ModifiedOn; then the conflicting records in full
    assert {c.key for c in found} == {conflicted["alpha"], conflicted["beta"]}
    by_key = {c.key: c.differences for c in found}
    assert by_key[conflicted["alpha"]] == [("city", "York", "Leeds")]
    assert by_key[conflicted["beta"]] == [("name", "Beta Local", "Beta"), ("number_of_employees", 12, None)]


def test_a_contact_conflict_compares_its_organisation_by_crm_key(conflicted):
    [found] = conflicts.find(get_migrator(Contact))
    assert found.key == conflicted["contact"]
    assert found.differences == [("last_name", "Local", "Lee")]


def test_keeping_the_crms_version_overwrites_the_local_row_in_one_request(cdms, conflicted, person):
    key = conflicted["beta"]
    with count_requests() as counter:
        conflicts.resolve(Organisation, key, conflicts.KEEP_CRM, person)
    assert counter.count == 1
    assert local_values(Organisation, key) == crm_values(cdms, Organisation, key)
    assert crm_values(cdms, Organisation, key)["name"] == "Beta"
    version = Version.objects.get_for_object(Organisation.objects.skip_cdms().get(cdms_pk=key)).first()
    assert (version.revision.user, version.revision.comment) == (
        person,
        "Conflict resolved: kept the CRM's version",
    )
    assert conflicts.find(get_migrator(Organisation))[0].key == conflicted["alpha"]


def test_pushing_the_local_version_merges_it_into_the_crm_in_two_requests(cdms, conflicted, person):
    key = conflicted["beta"]
    with count_requests() as counter:
        conflicts.resolve(Organisation, key, conflicts.PUSH_LOCAL, person)
    assert [(r.method, r.entity_set) for r in counter.requests] == [("MERGE", "AccountSet"), ("GET", "AccountSet")]
    crm = crm_values(cdms, Organisation, key)
    assert (crm["name"], crm["number_of_employees"], crm["city"]) == ("Beta Local", 12, "Leeds")
    assert local_values(Organisation, key) == crm
    version = Version.objects.get_for_object(Organisation.objects.skip_cdms().get(cdms_pk=key)).first()
    assert (version.revision.user, version.revision.comment) == (
        person,
        "Conflict resolved: pushed the local version",
    )


def test_keeping_the_crms_version_of_a_record_the_crm_deleted_removes_the_row(cdms, conflicted, person):
    cdms.store.delete("Account", conflicted["gamma"])
    conflicts.resolve(Organisation, conflicted["gamma"], conflicts.KEEP_CRM, person)
    assert not Organisation.objects.skip_cdms().filter(cdms_pk=conflicted["gamma"]).exists()


def test_an_unknown_action_is_refused_by_name(conflicted, person):
    with pytest.raises(ValueError, match="unknown conflict action 'merge_both'"):
        conflicts.resolve(Organisation, conflicted["beta"], "merge_both", person)


def test_the_page_lists_the_conflicts_of_every_entity(client, conflicted, person):
    client.force_login(person)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    for key in (conflicted["alpha"], conflicted["beta"], conflicted["contact"]):
        assert f'data-key="{key}"' in page
    assert conflicted["gamma"] not in page


def test_the_page_resolves_a_conflict_and_says_so(client, cdms, conflicted, person):
    client.force_login(person)
    key = conflicted["alpha"]
    response = client.post(PAGE, {"entity": "Account", "key": key, "action": "push_local"}, follow=True)
    assert response.status_code == 200
    assert "pushed the local version" in response.content.decode()
    assert crm_values(cdms, Organisation, key)["city"] == "York"
    assert f'data-key="{key}"' not in response.content.decode()


def test_pushing_a_contact_whose_organisation_is_not_in_the_crm_says_why(client, cdms, conflicted, person):
    local_only = Organisation(name="Local only")
    local_only.save(skip_cdms=True)
    change_locally(Contact, conflicted["contact"], organisation=local_only)
    client.force_login(person)
    form = {"entity": "Contact", "key": conflicted["contact"], "action": "push_local"}
    page = client.post(PAGE, form, follow=True).content.decode()
    assert "not resolved" in page and "which is not in the CRM" in page
    assert crm_values(cdms, Contact, conflicted["contact"])["last_name"] == "Lee"


@pytest.mark.parametrize(
    "form",
    [
        {"entity": "Lead", "key": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "action": "keep_crm"},
        {"entity": "Account", "key": "not-a-key", "action": "keep_crm"},
        {"entity": "Account", "key": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "action": "merge_both"},
    ],
)
def test_the_page_refuses_a_bad_action_with_400(client, cdms, person, form):
    client.force_login(person)
    response = client.post(PAGE, form)
    assert response.status_code == 400
    assert b"needs a known entity, a CRM key and an action" in response.content


def test_a_person_without_change_permission_may_look_but_not_resolve(client, conflicted):
    user = User.objects.create_user("viewer", password="pass-1234", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_syncstatus"))
    client.force_login(user)
    assert client.get(PAGE).status_code == 200
    response = client.post(PAGE, {"entity": "Account", "key": conflicted["beta"], "action": "keep_crm"})
    assert response.status_code == 403
    assert Organisation.objects.skip_cdms().get(cdms_pk=conflicted["beta"]).name == "Beta Local"


def test_a_large_entity_is_compared_only_when_asked(client, conflicted, person, monkeypatch):
    monkeypatch.setattr("migrator.ops.sync_page.AUTO_COMPARE_ROWS", 2)  # Account has 3 rows, Contact 1
    client.force_login(person)
    with count_requests() as counter:
        page = client.get(PAGE).content.decode()
    # Contact's keys, then its one conflicting record; and the keys of each other (empty) entity.
    assert counter.count == 2 + len(entities.entity_names()) - 2
    assert "3 local rows: finding conflicts costs about 1 CRM request and runs in the background." in page
    assert conflicted["alpha"] not in page and f'data-key="{conflicted["contact"]}"' in page
    assert 'http-equiv="refresh"' not in page


def test_the_page_says_when_the_crm_cannot_be_asked(client, cdms, person):
    cdms.faults.add(status=503, count=20)
    client.force_login(person)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "The CRM could not be asked for conflicts" in response.content.decode()


def test_the_page_highlights_a_watermark_past_its_bound_and_says_what_reads_do(client, cdms, person, settings):
    settings.CDMS_MAX_STALENESS = 30
    now = timezone.now()
    Watermark.objects.create(
        entity="Account", changes_until=now, deletions_until=now - dt.timedelta(seconds=633), crm_clock_skew=-61.4
    )
    for entity in entities.entity_names():  # every other entity followed just now
        if entity != "Account":
            Watermark.objects.create(entity=entity, changes_until=now, deletions_until=now)
    client.force_login(person)
    page = client.get(PAGE).content.decode()
    assert 'class="deletions-until past-bound"' in page and "past the 600 s bound" in page
    assert page.count("past-bound") == 2  # the style rule and the Account delete watermark only
    assert "Reads now: from the mirror; counts and offset pages of Account are marked stale" in page
    assert '<td class="clock-skew">-61 s</td>' in page
