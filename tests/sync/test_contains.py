"""`contains()` costs what the unsliced read of its queryset costs, and answers as Django does."""

import pytest

from cdms_api.counting import count_requests
from organisation.models import Organisation
from tests.crm_records import seed_account


def test_contains_costs_the_unsliced_read(cdms):
    seed_account(cdms, "Acme", Address1_City="Leeds")
    seed_account(cdms, "Bolt", Address1_City="York")
    acme = Organisation.objects.get(name="Acme")
    bolt = Organisation.objects.get(name="Bolt")
    leeds = Organisation.objects.filter(city="Leeds")
    with count_requests() as unsliced:
        list(leeds)
    for obj, expected in ((acme, True), (bolt, False)):
        with count_requests() as counter:
            assert Organisation.objects.filter(city="Leeds").contains(obj) is expected
        assert counter.count == unsliced.count == 1


def test_contains_sees_a_change_made_in_the_crm(cdms):
    key = seed_account(cdms, "Acme", Address1_City="Leeds")
    acme = Organisation.objects.get(cdms_pk=key)
    cdms.store.update("Account", key, {"Address1_City": "York"}, modified_on=None)
    assert not Organisation.objects.filter(city="Leeds").contains(acme)
    assert Organisation.objects.filter(city="York").contains(acme)


def test_contains_of_an_evaluated_queryset_costs_nothing(cdms):
    seed_account(cdms, "Acme")
    queryset = Organisation.objects.all()
    acme = list(queryset)[0]
    with count_requests() as counter:
        assert queryset.contains(acme)
    assert counter.count == 0


def test_contains_refuses_what_django_refuses(cdms):
    with pytest.raises(ValueError):
        Organisation.objects.all().contains(Organisation(name="unsaved"))
