"""CRM records put straight into the emulator's store, as another CRM user would make them."""

import datetime as dt
import uuid

from cdms_api import odata


def seed_account(crm, name="Acme", modified_on=None, **attrs):
    """Insert an Account into the emulator; returns its key."""
    key = str(uuid.uuid4())
    crm.store.insert("Account", {"AccountId": key, "Name": name, **attrs}, modified_on=modified_on)
    return key


def seed_contact(crm, first="Ann", last="Lee", account=None, **attrs):
    """Insert a Contact into the emulator; returns its key."""
    key = str(uuid.uuid4())
    if account:
        attrs["ParentCustomerId"] = {"Id": account, "LogicalName": "account"}
    crm.store.insert("Contact", {"ContactId": key, "FirstName": first, "LastName": last, **attrs})
    return key


def wire_date(value):
    """A datetime in the CRM's JSON form."""
    return odata.format_date(value)


def later(seconds=5):
    """A UTC time a few seconds from now, in whole seconds (what the CRM would stamp later)."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).replace(microsecond=0)
