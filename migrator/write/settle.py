"""Settling a MERGE or DELETE whose answer was lost: read the record back by key and decide from it.

A timeout, a cut connection, an error page, even an error status can come after the CRM
performed the request. A create carries its own key and is looked up by it (`writer`); a MERGE
or a DELETE addresses a record whose state tells what happened, so before the call returns
or raises, the record is read back (one GET, only after a failure):

- DELETE: the record gone means the DELETE landed, and the write goes on as if it had been
  answered; the record there means it did not, and the error is raised.
- MERGE: the record holding every value sent means it landed (the record read back is the
  answer the GET after a MERGE would have fetched); otherwise it did not, and the error is
  raised.

When the read-back fails too, the original error is raised: the caller rolls the local write
back, and if the CRM had performed it after all, the next read finds the record newer (or
gone) and converges.
"""

import logging

from cdms_api.exceptions import CDMSError, CDMSNotFoundError

from .. import fetch
from ..connection import get_client

log = logging.getLogger("migrator.write.settle")

GONE = object()


def merge(migrator, key, body):
    """MERGE `body` into a record; returns the record read back if a lost answer had landed, else None."""
    client = get_client()
    try:
        client.update(migrator.service, key, body)
        return None
    except CDMSNotFoundError:
        raise
    except CDMSError as exc:
        record = _read_back(migrator, key)
        if record is None or record is GONE or not holds(migrator, record, body):
            raise
        log.warning("%s %s: the MERGE's answer was lost (%s); the CRM holds it", migrator.service, key, exc)
        return record


def delete(migrator, key):
    """DELETE a record; one already gone counts as deleted, and so does a lost answer whose record is gone."""
    client = get_client()
    try:
        client.delete(migrator.service, key)
    except CDMSNotFoundError:
        log.info("%s %s was already gone from the CRM", migrator.service, key)
    except CDMSError as exc:
        if _read_back(migrator, key) is not GONE:
            raise
        log.warning("%s %s: the DELETE's answer was lost (%s); the record is gone", migrator.service, key, exc)


def holds(migrator, record, body):
    """Whether a CRM record holds every attribute value of a MERGE body (compared as model values)."""
    fields = {field.cdms_name: field for field in migrator.fields.values()}
    return all(fields[name].from_cdms(record.get(name)) == fields[name].from_cdms(v) for name, v in body.items())


def _read_back(migrator, key):
    """The record, GONE if the CRM answers without it, None if the CRM does not answer."""
    try:
        return fetch.record(migrator, key)
    except CDMSNotFoundError:
        return GONE
    except CDMSError as exc:
        log.warning("%s %s: a write's answer was lost; reading it back failed: %s", migrator.service, key, exc)
        return None
