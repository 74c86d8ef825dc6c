"""Fixtures for the sync layer tests: Django pointed at a fresh emulator, and CRM seeding helpers."""

import datetime as dt
import uuid

import pytest

from cdms_api import odata
from cdms_api.counting import count_requests


@pytest.fixture
def requests_made():
    """Counts CRM requests made inside the test body."""
    with count_requests() as counter:
        yield counter


def wire_date(value):
    """A datetime in the CRM's JSON form."""
    return odata.format_date(value)


def seed_account(crm, name="Acme", modified_on=None, **attrs):
    """Insert an Account straight into the emulator's store; returns its key."""
    key = str(uuid.uuid4())
    crm.store.insert("Account", {"AccountId": key, "Name": name, **attrs}, modified_on=modified_on)
    return key


def seed_contact(crm, first="Ann", last="Lee", account=None, modified_on=None, **attrs):
    """Insert a Contact straight into the emulator's store; returns its key."""
    key = str(uuid.uuid4())
    if account:
        attrs["ParentCustomerId"] = {"Id": account, "LogicalName": "account"}
    crm.store.insert(
        "Contact", {"ContactId": key, "FirstName": first, "LastName": last, **attrs}, modified_on=modified_on
    )
    return key


def later(seconds=5):
    """A UTC time a few seconds from now, whole seconds (what the CRM would stamp later)."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).replace(microsecond=0)
