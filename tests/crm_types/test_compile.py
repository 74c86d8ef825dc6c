"""Each CRM attribute type's lookups compile to a sound `$filter` (no request is sent to compile one)."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db.models import Q

from migrator.cdms_migrator import get_migrator
from migrator.read.compiler import compile_where
from migrator.read.dependencies import prepare
from migrator.read.ordering import crm_orderby

from .models import Widget

pytestmark = pytest.mark.usefixtures("typed")
KEY = "7a4814f9-2c5e-4d7a-8f2b-9e2b1c3d4e5f"
WHEN = dt.datetime(2016, 3, 1, 9, 30, tzinfo=dt.UTC)


def remote(queryset):
    """The `$filter` text of a queryset (None: no filter), and whether it is exact."""
    predicate = compile_where(queryset, prepare(queryset))
    return predicate.render(), predicate.exact


@pytest.mark.parametrize(
    ("filters", "text", "exact"),
    [
        # option sets, lower-case state attributes included: through `Value`, exact
        ({"colour": 2}, "new_Colour/Value eq 2", True),
        ({"colour__in": [1, 3]}, "(new_Colour/Value eq 1) or (new_Colour/Value eq 3)", True),
        ({"colour__isnull": True}, "new_Colour/Value eq null", True),
        ({"statecode": 0}, "statecode/Value eq 0", True),
        ({"colour": 2**40}, "false", True),  # outside Int32: no CRM row holds it
        # money: through `Value`, a decimal literal; its range answered without asking
        ({"price__gte": Decimal("12.5")}, "new_Price/Value ge 12.5M", True),
        ({"price__lt": Decimal("1E+20")}, "new_Price/Value ne null", True),
        ({"price": Decimal("1.23456")}, "(new_Price/Value ge 1.2345M) and (new_Price/Value le 1.2346M)", False),
        # decimal at its precision (2 places)
        ({"rate": Decimal("2.50")}, "new_Rate eq 2.50M", True),
        ({"rate__gt": Decimal("2.505")}, "new_Rate ge 2.50M", False),
        # floating point: a double literal, never a decimal's `M`
        ({"weight__lte": 2.5}, "new_Weight le 2.5", True),
        ({"weight": 3.0}, "new_Weight eq 3.0", True),
        ({"weight__gt": 1e12}, "false", True),
        # big integers: Int64, far past Int32
        ({"big_count": 2**40}, f"new_BigCount eq {2**40}", True),
        ({"big_count__range": (1, 2**40)}, f"(new_BigCount ge 1) and (new_BigCount le {2**40})", True),
        # memo: as text, a superset (the CRM ignores case)
        ({"notes__icontains": "late"}, "substringof('late', new_Notes)", False),
        ({"active": False}, "new_Active eq false", True),
        ({"delivered_on__gte": WHEN}, "new_DeliveredOn ge datetime'2016-03-01T09:30:00'", True),
        # typed references: by the record's key, a superset (the logical name is not compared)
        ({"customer": f"contact/{KEY}"}, f"new_CustomerId/Id eq guid'{KEY}'", False),
        ({"customer__isnull": False}, "new_CustomerId/Id ne null", True),
        ({"owner": "systemuser/not-a-guid"}, "false", False),
        # a lookup to its own entity and to a synced entity, by the CRM key of the parent
        ({"parent_widget__isnull": True}, "new_ParentWidgetId/Id eq null", True),
        ({"parent_widget__cdms_pk": KEY}, f"new_ParentWidgetId/Id eq guid'{KEY}'", True),
        ({"account__cdms_pk": KEY}, f"new_AccountId/Id eq guid'{KEY}'", True),
    ],
)
def test_each_type_compiles_to_its_crm_filter(filters, text, exact):
    found = remote(Widget.objects.filter(**filters))
    assert found == (text, exact)


def test_a_negated_option_set_keeps_the_rows_where_it_is_null():
    text, exact = remote(Widget.objects.exclude(colour=2))
    assert (text, exact) == ("(not (new_Colour/Value eq 2)) or (not (new_Colour/Value ne null))", True)


def test_a_negated_superset_relaxes_to_every_row():
    assert remote(Widget.objects.exclude(customer=f"contact/{KEY}")) == (None, False)
    assert remote(Widget.objects.filter(~Q(price=Decimal("1.23456")))) == (None, False)


@pytest.mark.parametrize(
    ("ordering", "orderby"),
    [
        ("price", ["new_Price"]),
        ("-weight", ["new_Weight desc"]),
        ("big_count", ["new_BigCount"]),
        ("rate", ["new_Rate"]),
        ("colour", None),  # the CRM orders option sets by their labels
        ("customer", None),  # and references by the referenced record's name
        ("notes", None),
    ],
)
def test_which_types_order_alike_in_the_crm_and_locally(ordering, orderby):
    found = crm_orderby(Widget.objects.order_by(ordering), get_migrator(Widget))
    assert (found[0] if found else None) == orderby


def test_a_mapping_names_its_entity_set_key_and_the_attributes_it_reads():
    from .models import Visit

    visits = get_migrator(Visit)
    assert visits.key_attribute == "ActivityId"
    assert visits.attributes() == [
        "ActivityId",
        "CreatedOn",
        "ModifiedOn",
        "VersionNumber",
        "statecode",
        "statuscode",
        "OwnerId",
        "Subject",
        "ActualStart",
        "RegardingObjectId",
    ]
    assert get_migrator(Widget).key_attribute == "new_widgetId"
    assert uuid.UUID(KEY)  # the keys above are GUIDs
