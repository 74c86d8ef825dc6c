"""Refused CRM credentials, remembered in the database for every thread and process of a deployment.

The client (`cdms_api.refusals`) stops sending credentials the CRM or AD FS refused, so Active
Directory never locks the service account. This module gives it a store that every web worker,
the follower and the sweepers share: one row per set of credentials (`fingerprint`, an HMAC of
the CRM URL, the auth settings and the password, so a corrected setting is a new row and not
refused), with the reason, when it was refused and when one process may try again. A process trusts what
it read for a few seconds (`cdms_api.refusals.RECHECK_SECONDS`), so an operator's "fixed"
reaches every process within them. When the
back-off has passed, exactly one process wins the try (a conditional UPDATE); the rest keep
failing at once with a 503 until it has answered.

Every read and write goes through a connection of its own in autocommit, outside any
transaction of the request that met the refusal, so a rolled-back write cannot take the record
with it. If the database cannot be written (SQLite busy), the refusal is still kept in the
process. An operator lifts it with `manage.py cdms_credentials --fixed` or the sync page.
"""

import datetime as dt
import logging

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.utils.crypto import salted_hmac

from cdms_api.refusals import CredentialGuard, MemoryRefusals, Refusal, RefusalStore

from .conf import cdms_settings

log = logging.getLogger("migrator")

UNUSABLE = object()  # what `_run` returns when the database could not be used
FIXED_HINT = "an operator runs `manage.py cdms_credentials --fixed` or uses the CRM sync page"


class CredentialRefusal(models.Model):
    """The CRM or AD FS refused one set of credentials; none are sent before `retry_at`."""

    fingerprint = models.CharField(max_length=64, primary_key=True)
    crm = models.CharField(max_length=255)
    auth = models.CharField(max_length=8)
    reason = models.TextField()
    # Seconds since the epoch (UTC): plain numbers, compared and swapped in raw SQL on any backend.
    refused_at = models.FloatField()
    retry_at = models.FloatField()
    refusals = models.PositiveIntegerField(default=1)

    class Meta:
        app_label = "migrator"
        verbose_name = "refused CRM credentials"
        verbose_name_plural = "refused CRM credentials"

    def __str__(self):
        return f"{self.auth} credentials for {self.crm}: {self.reason}"

    def as_refusal(self):
        """The client's `Refusal` of this row."""
        return Refusal(self.reason, _moment(self.refused_at), _moment(self.retry_at))


def _moment(seconds):
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class DatabaseRefusals(RefusalStore):
    """The refusal of one set of credentials, in the `CredentialRefusal` table."""

    def __init__(self, fingerprint, crm, auth, alias=DEFAULT_DB_ALIAS):
        self.fingerprint, self.crm, self.auth, self.alias = fingerprint, crm, auth, alias
        self.table = CredentialRefusal._meta.db_table
        self.memory = MemoryRefusals()  # the process's own record, kept whatever the database does

    def current(self, now):
        row = self._run(self._select)
        if row is UNUSABLE:
            return self.memory.current(now)
        return _refusal(row) if row and row[2] > now.timestamp() else None

    def claim(self, now, backoff):
        claimed = self._run(lambda cursor: self._claim(cursor, now.timestamp(), backoff))
        return self.memory.claim(now, backoff) if claimed is UNUSABLE else claimed

    def refuse(self, reason, now, backoff):
        refusal = self.memory.refuse(reason, now, backoff)
        self._run(lambda cursor: self._upsert(cursor, refusal))
        return refusal

    def accept(self):
        self.memory.accept()
        delete = f"DELETE FROM {self.table} WHERE fingerprint = %s"
        self._run(lambda cursor: cursor.execute(delete, [self.fingerprint]))

    def _select(self, cursor):
        cursor.execute(
            f"SELECT reason, refused_at, retry_at FROM {self.table} WHERE fingerprint = %s", [self.fingerprint]
        )
        return cursor.fetchone()

    def _claim(self, cursor, now, backoff):
        row = self._select(cursor)
        if row is None:
            return None
        if row[2] > now:
            return _refusal(row)
        cursor.execute(
            f"UPDATE {self.table} SET retry_at = %s WHERE fingerprint = %s AND retry_at = %s",
            [now + backoff, self.fingerprint, row[2]],
        )
        if cursor.rowcount == 1:
            return None  # this process won the one try of this back-off
        row = self._select(cursor)
        return _refusal(row) if row else None

    def _upsert(self, cursor, refusal):
        values = [refusal.reason, refusal.refused_at.timestamp(), refusal.retry_at.timestamp(), self.fingerprint]
        update = (
            f"UPDATE {self.table} SET reason = %s, refused_at = %s, retry_at = %s, refusals = refusals + 1 "
            "WHERE fingerprint = %s"
        )
        cursor.execute(update, values)
        if cursor.rowcount == 0:
            cursor.execute(
                f"INSERT INTO {self.table} (fingerprint, crm, auth, reason, refused_at, retry_at, refusals) "
                "VALUES (%s, %s, %s, %s, %s, %s, 1)",
                [self.fingerprint, self.crm, self.auth, *values[:3]],
            )

    def _run(self, work):
        connection = connections.create_connection(self.alias)
        try:
            with connection.cursor() as cursor:
                return work(cursor)
        except DatabaseError as exc:
            log.warning("the refused-credentials record could not be used (%s); kept in this process", exc)
            return UNUSABLE
        finally:
            connection.close()


def _refusal(row):
    reason, refused_at, retry_at = row
    return Refusal(reason, _moment(refused_at), _moment(retry_at))


def fingerprint():
    """The HMAC naming the configured credentials (CRM, auth settings and password), never reversible."""
    s = cdms_settings
    parts = [s.CDMS_BASE_URL, s.CDMS_AUTH, s.CDMS_USERNAME, s.CDMS_PASSWORD, s.CDMS_ADFS_URL, s.CDMS_ADFS_WHR]
    text = "\n".join([*parts, *s.CDMS_ADFS_STS_URLS])
    return salted_hmac("migrator.credentials", text, algorithm="sha256").hexdigest()


def make_guard():
    """The CredentialGuard of the configured credentials, backed by the database."""
    store = DatabaseRefusals(fingerprint(), cdms_settings.CDMS_BASE_URL, cdms_settings.CDMS_AUTH)
    return CredentialGuard(store, backoff=cdms_settings.CDMS_CREDENTIALS_BACKOFF, hint=FIXED_HINT)


def refusal_in_force():
    """The refusal of the configured credentials in force now (`Refusal`), or None."""
    if cdms_settings.CDMS_AUTH == "none":
        return None
    row = CredentialRefusal.objects.filter(fingerprint=fingerprint()).first()
    if row is None or row.retry_at <= dt.datetime.now(dt.UTC).timestamp():
        return None
    return row.as_refusal()


def describe(refusal):
    """One sentence for operators: what was refused, when, and until when nothing is sent."""
    return (
        f"the CRM refused the credentials (CDMS_AUTH={cdms_settings.CDMS_AUTH}) at "
        f"{refusal.refused_at:%Y-%m-%d %H:%M:%S} UTC: {refusal.reason}; nothing is sent before "
        f"{refusal.retry_at:%Y-%m-%d %H:%M:%S} UTC, or until {FIXED_HINT}"
    )


def mark_fixed():
    """An operator says the credentials are fixed: forget every refusal; return how many there were."""
    deleted, _ = CredentialRefusal.objects.all().delete()
    return deleted
