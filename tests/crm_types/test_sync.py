"""Every CRM attribute type through the sync layer, on a model `cdms_inspect` wrote: reads, filters,
orderings and slices, writes and bulk writes, value domains, links to the record's own entity,
an activity's key, the follower, bounded reads and compensation; request counts are exact."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from cdms_api.counting import count_requests
from cdms_api.exceptions import CDMSValueError
from migrator.exceptions import ReadOnlyEntityError
from migrator.mirror.follower import follow
from migrator.mirror.sweep import sweep
from organisation.models import Organisation

from .models import ReferenceWidget, Visit, Widget

WHEN = dt.datetime(2016, 3, 1, 9, 30, tzinfo=dt.UTC)
OWNER = "8a0f3a4c-6d7e-4c1b-9f0e-2b5d1c3a7e90"


def methods(counter):
    return [r.method for r in counter.requests]


def local(model):
    return model.objects.skip_cdms()


def seed_widget(crm, name="Sprocket", modified_on=None, **attrs):
    """A new_widget made by another CRM user (wire JSON attributes); returns its key."""
    key = str(uuid.uuid4())
    crm.store.insert("new_widget", {"new_widgetId": key, "new_name": name, **attrs}, modified_on=modified_on)
    return key


def seed_contact(crm, first="Ann"):
    key = str(uuid.uuid4())
    crm.store.insert("Contact", {"ContactId": key, "FirstName": first, "LastName": "Lee"})
    return key


def every_type(crm):
    """Wire values of every type, as another CRM user would store them."""
    contact = seed_contact(crm)
    return contact, {
        "new_Notes": "line one\nline two",
        "new_Quantity": 12,
        "new_BigCount": str(2**40),
        "new_Rate": "2.50",
        "new_Weight": 2.25,
        "new_Price": {"Value": "1234.5678"},
        "new_Active": True,
        "new_DeliveredOn": f"/Date({int(WHEN.timestamp()) * 1000})/",
        "new_Colour": {"Value": 7},  # an option the model's choices lack
        "new_CustomerId": {"Id": contact, "LogicalName": "contact"},
    }


def test_a_record_of_every_type_reads_into_its_fields(typed_crm):
    contact, attrs = every_type(typed_crm)
    key = seed_widget(typed_crm, **attrs)
    with count_requests() as counter:
        widget = Widget.objects.get(cdms_pk=key)
    assert methods(counter) == ["GET"]
    assert (widget.notes, widget.quantity, widget.big_count) == ("line one\nline two", 12, 2**40)
    assert (widget.rate, widget.weight, widget.price) == (Decimal("2.50"), 2.25, Decimal("1234.5678"))
    assert (widget.active, widget.delivered_on) == (True, WHEN)
    assert widget.colour == 7 and widget.get_colour_display() == 7  # kept and shown, not refused
    assert widget.customer == f"contact/{contact}"  # the logical name is kept with the key
    assert widget.owner.startswith("systemuser/")


def test_typed_filters_cost_one_request_and_answer_as_the_mirror(typed_crm):
    contact, attrs = every_type(typed_crm)
    seed_widget(typed_crm, "Typed", **attrs)
    seed_widget(typed_crm, "Plain", new_Colour={"Value": 1}, new_Price={"Value": "5"}, new_Weight=9.5)
    queries = [
        {"colour": 7},
        {"colour__in": [1, 2]},
        {"price__gte": Decimal("1000")},
        {"weight__lt": 5},
        {"big_count__gt": 2**35},
        {"rate": Decimal("2.5")},
        {"customer": f"contact/{contact}"},
        {"customer__isnull": True},
        {"notes__icontains": "LINE TWO"},
        {"delivered_on__year": 2016},
    ]
    for filters in queries:
        with count_requests() as counter:
            found = sorted(Widget.objects.filter(**filters).values_list("name", flat=True))
        assert counter.count == 1, filters
        assert found == sorted(local(Widget).filter(**filters).values_list("name", flat=True)), filters
    assert sorted(Widget.objects.exclude(colour=7).values_list("name", flat=True)) == ["Plain"]


def test_a_slice_ordered_by_money_or_a_double_is_fetched_in_the_crms_order(typed_crm):
    for n in range(5):
        seed_widget(typed_crm, f"W{n}", new_Price={"Value": str(100 - n)}, new_Weight=float(n))
    with count_requests() as counter:
        cheapest = list(Widget.objects.order_by("price").values_list("name", flat=True)[:2])
        heaviest = Widget.objects.order_by("-weight").first()
    assert cheapest == ["W4", "W3"] and heaviest.name == "W4"
    # `$orderby` + `$top`, one request each; on PostgreSQL, which puts nulls first descending where
    # the CRM puts them last, the descending one asks for the nulls and the values apart.
    assert counter.count == (3 if connection.vendor == "postgresql" else 2)


def test_a_widget_of_every_type_is_written_and_read_back_alike(typed_crm):
    parent = Organisation.objects.create(name="Acme")
    contact = seed_contact(typed_crm)
    widget = Widget(
        name="Gear",
        notes="a\nb",
        quantity=3,
        big_count=2**40,
        rate=Decimal("1.25"),
        weight=0.5,
        price=Decimal("99.9900"),
        active=False,
        delivered_on=WHEN,
        colour=2,
        account=parent,
        customer=f"contact/{contact}",
        owner=f"systemuser/{OWNER}",
    )
    with count_requests() as counter:
        widget.save()
    assert methods(counter) == ["POST"]
    record = typed_crm.store.get("new_widget", widget.cdms_pk)
    assert record["new_BigCount"] == str(2**40) and record["new_Weight"] == 0.5
    assert record["new_Colour"] == {"Value": 2} and Decimal(record["new_Price"]["Value"]) == Decimal("99.99")
    assert record["new_CustomerId"]["Id"] == contact and record["new_CustomerId"]["LogicalName"] == "contact"
    assert record["new_AccountId"]["Id"] == parent.cdms_pk

    widget.colour, widget.price, widget.customer = 9, Decimal("5"), f"account/{parent.cdms_pk}"
    with count_requests() as counter:
        widget.save()
    assert methods(counter) == ["MERGE", "GET"]
    record = typed_crm.store.get("new_widget", widget.cdms_pk)
    assert record["new_Colour"] == {"Value": 9} and record["new_CustomerId"]["LogicalName"] == "account"
    fresh = Widget.objects.get(pk=widget.pk)
    assert (fresh.colour, fresh.price, fresh.customer) == (9, Decimal("5"), f"account/{parent.cdms_pk}")


@pytest.mark.parametrize(
    ("field", "value", "attribute"),
    [
        ("price", Decimal("1E+15"), "new_Price"),
        ("rate", Decimal("-1E+12"), "new_Rate"),
        ("weight", float("inf"), "new_Weight"),
        ("big_count", 2**63, "new_BigCount"),
        ("colour", 2**31, "new_Colour"),
        ("customer", "lead/7a4814f9-2c5e-4d7a-8f2b-9e2b1c3d4e5f", "new_CustomerId"),
    ],
)
def test_a_value_the_crm_cannot_hold_is_refused_before_the_crm_naming_the_field(
    typed_crm, field, value, attribute
):
    widget = Widget(name="Bad", **{field: value})
    with (
        count_requests() as counter,
        pytest.raises(CDMSValueError, match=f"Widget.{field} .attribute {attribute}"),
    ):
        widget.save()
    assert counter.count == 0 and not local(Widget).exists()


def test_a_state_attribute_is_read_but_never_written(typed_crm):
    key = seed_widget(typed_crm, statecode={"Value": 1})
    widget = Widget.objects.get(cdms_pk=key)
    assert widget.statecode == 1
    widget.name, widget.statecode = "Renamed", 0
    with count_requests() as counter, pytest.raises(CDMSValueError, match="statecode.*does not take it"):
        widget.save()
    assert counter.count == 0
    widget.refresh_from_db()
    widget.name = "Renamed"
    widget.save()  # a change of the other fields goes through, the state stays the CRM's
    assert typed_crm.store.get("new_widget", key)["new_name"] == "Renamed"


def test_bulk_writes_carry_every_type(typed_crm):
    widgets = [Widget(name=f"B{n}", colour=n, price=Decimal(n), weight=n / 2) for n in range(3)]
    with count_requests() as counter:
        Widget.objects.bulk_create(widgets)
    assert methods(counter) == ["POST"] * 3
    with count_requests() as counter:
        assert Widget.objects.filter(name__startswith="B").update(colour=5, price=Decimal("7.5")) == 3
    assert sorted(methods(counter)) == ["GET", "GET", "MERGE", "MERGE", "MERGE"]  # the read, 3 MERGEs, 1 re-read
    assert {typed_crm.store.get("new_widget", w.cdms_pk)["new_Colour"]["Value"] for w in widgets} == {5}
    with count_requests() as counter:
        Widget.objects.filter(colour=5).delete()
    assert methods(counter).count("DELETE") == 3 and typed_crm.store.count("new_widget") == 0


def test_a_chain_of_parents_of_the_same_entity_is_fetched_by_generation(typed_crm):
    grand = seed_widget(typed_crm, "Grand")
    parent = seed_widget(typed_crm, "Parent", new_ParentWidgetId={"Id": grand, "LogicalName": "new_widget"})
    seed_widget(typed_crm, "Child", new_ParentWidgetId={"Id": parent, "LogicalName": "new_widget"})
    with count_requests() as counter:
        child = Widget.objects.get(name="Child")
    assert methods(counter) == ["GET", "GET", "GET"]  # the read, then one generation of ancestors each
    assert child.parent_widget.name == "Parent" and child.parent_widget.parent_widget.name == "Grand"


def test_parents_in_one_page_and_a_cycle_of_parents_cost_no_request_per_row(typed_crm):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    typed_crm.store.insert("new_widget", {"new_widgetId": first, "new_name": "First"})
    typed_crm.store.insert(
        "new_widget",
        {
            "new_widgetId": second,
            "new_name": "Second",
            "new_ParentWidgetId": {"Id": first, "LogicalName": "new_widget"},
        },
    )
    typed_crm.store.update(
        "new_widget", first, {"new_ParentWidgetId": {"Id": second, "LogicalName": "new_widget"}}
    )
    with count_requests() as counter:
        rows = {w.name: w for w in Widget.objects.all()}
    assert counter.count == 1
    assert rows["First"].parent_widget_id == rows["Second"].pk
    assert rows["Second"].parent_widget_id == rows["First"].pk


def test_an_activity_is_written_and_read_by_its_activity_key(typed_crm):
    widget = Widget.objects.create(name="Gear")
    visit = Visit(subject="Call", actual_start=WHEN, regarding_object=f"new_widget/{widget.cdms_pk}")
    with count_requests() as counter:
        visit.save()
    assert [(r.method, r.entity_set) for r in counter.requests] == [("POST", "new_visitSet")]
    record = typed_crm.store.get("new_visit", visit.cdms_pk)
    assert record["ActivityId"] == visit.cdms_pk and record["RegardingObjectId"]["LogicalName"] == "new_widget"
    local(Visit).all().delete()
    assert Visit.objects.get(subject="Call").regarding_object == f"new_widget/{widget.cdms_pk}"
    visit = Visit.objects.get(subject="Call")
    visit.delete()
    assert typed_crm.store.count("new_visit") == 0


def test_a_follower_round_over_typed_rows(typed_crm):
    contact, attrs = every_type(typed_crm)
    earlier = timezone.now() - dt.timedelta(minutes=10)  # before the next round's overlap
    keys = [seed_widget(typed_crm, f"F{n}", modified_on=earlier, **attrs) for n in range(60)]
    with count_requests() as counter:
        follow(Widget, "test-follower")
    assert counter.count == 2  # 60 changed rows: two pages
    assert local(Widget).count() == 60
    assert set(local(Widget).values_list("colour", "customer")) == {(7, f"contact/{contact}")}
    later = timezone.now() + dt.timedelta(seconds=2)
    typed_crm.store.update("new_widget", keys[0], {"new_Colour": {"Value": 3}}, modified_on=later)
    with count_requests() as counter:
        follow(Widget, "test-follower")
    assert counter.count == 1 and local(Widget).get(cdms_pk=keys[0]).colour == 3


def test_a_bounded_read_of_typed_rows_answers_from_the_mirror(typed_crm, settings):
    contact, attrs = every_type(typed_crm)
    for n in range(3):
        seed_widget(typed_crm, f"M{n}", **attrs)
    follow(Widget, "test-follower")
    sweep(Widget, "test-follower", partitions=1)
    settings.CDMS_MAX_STALENESS = 60
    with count_requests() as counter:
        assert Widget.objects.filter(colour=7, price__gte=Decimal("1000")).count() == 3
    assert counter.count == 0
    with count_requests() as counter:
        rows = list(Widget.objects.filter(customer=f"contact/{contact}").order_by("weight"))
    assert len(rows) == 3 and methods(counter) == ["GET"]  # the rows checked by key, in one request


def test_a_failed_local_step_merges_the_old_typed_values_back(typed_crm, monkeypatch):
    from migrator.write import writer

    widget = Widget.objects.create(name="Gear", colour=1, price=Decimal("10"), customer=None)
    widget.colour, widget.price, widget.weight = 2, Decimal("20"), 1.5

    def refuse(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "store", refuse)
    with pytest.raises(RuntimeError, match="disk full"):
        widget.save()
    record = typed_crm.store.get("new_widget", widget.cdms_pk)
    assert record["new_Colour"] == {"Value": 1} and Decimal(record["new_Price"]["Value"]) == Decimal("10")
    assert record["new_Weight"] is None


def test_a_read_only_mapping_reads_and_follows_but_refuses_every_write_before_the_crm(typed_crm):
    key = seed_widget(typed_crm, "Listed", new_Colour={"Value": 2})
    assert ReferenceWidget.objects.get(cdms_pk=key).colour == 2
    follow(ReferenceWidget, "test-follower")
    listed = ReferenceWidget.objects.get(cdms_pk=key)
    listed.name = "Changed"
    writes = [
        listed.save,
        listed.delete,
        lambda: ReferenceWidget.objects.create(name="New"),
        lambda: ReferenceWidget.objects.bulk_create([ReferenceWidget(name="New")]),
        lambda: ReferenceWidget.objects.filter(cdms_pk=key).update(name="Changed"),
        lambda: ReferenceWidget.objects.bulk_update([listed], ["name"]),
        lambda: ReferenceWidget.objects.filter(cdms_pk=key).delete(),
    ]
    for write in writes:
        with count_requests() as counter, pytest.raises(ReadOnlyEntityError, match="crm_types.ReferenceWidget"):
            write()
        assert counter.count == 0
    assert typed_crm.store.get("new_widget", key)["new_name"] == "Listed"
    assert local(ReferenceWidget).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_compensated_delete_recreates_the_record_with_its_typed_values(typed_crm):
    from django.db import DatabaseError

    from tests.sync.local_faults import failing_commit

    contact = seed_contact(typed_crm)
    key = seed_widget(
        typed_crm,
        "Kept",
        new_Colour={"Value": 7},
        new_Price={"Value": "12.3400"},
        new_Weight=0.25,
        new_BigCount=str(2**40),
        new_CustomerId={"Id": contact, "LogicalName": "contact"},
        statecode={"Value": 1},
    )
    widget = Widget.objects.get(cdms_pk=key)
    with failing_commit(), pytest.raises(DatabaseError):
        widget.delete()
    record = typed_crm.store.get("new_widget", key)
    assert (record["new_Colour"], Decimal(record["new_Price"]["Value"])) == ({"Value": 7}, Decimal("12.34"))
    assert (record["new_Weight"], record["new_BigCount"]) == (0.25, str(2**40))
    assert record["new_CustomerId"]["Id"] == contact and record["new_CustomerId"]["LogicalName"] == "contact"


@pytest.mark.django_db(transaction=True)
def test_a_compensated_create_of_typed_values_leaves_nothing_in_the_crm(typed_crm):
    from django.db import DatabaseError

    from tests.sync.local_faults import failing_commit

    widget = Widget(name="Gone", colour=9, price=Decimal("1.5"), owner=f"systemuser/{OWNER}")
    with failing_commit(), pytest.raises(DatabaseError):
        widget.save()
    assert typed_crm.store.count("new_widget") == 0 and widget.pk is None
