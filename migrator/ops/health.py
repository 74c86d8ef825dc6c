"""Health checks of the CRM connection: reachable, authenticated, mappings and entity sets, clocks agree.

Clock skew is reported because operators compare the CRM's timestamps with this machine's logs
(the sync itself never mixes the two clocks: see `mirror.follower`). The exact check creates a
probe record with a key we choose, reads the CRM's CreatedOn, and deletes it again;
`probe=False` reads the `Date` of a CRM answer instead (to about a second, either way).
"""

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from django.utils import timezone

from cdms_api import edmx
from cdms_api import exceptions as cdms
from cdms_api.fields import StringField
from cdms_api.odata import parse_date
from migrator.conf import cdms_settings
from migrator.connection import get_client

from ..credentials import describe, refusal_in_force
from ..mirror import entities
from . import mapping_check

PROBE_TEXT = "cdms_check probe (safe to delete)"


@dataclass
class Check:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str


def run_checks(probe=True, max_skew_seconds=5):
    """Every check, in order; later checks are skipped once the CRM is unreachable or refuses us."""
    refusal = refusal_in_force()
    if refusal is not None:
        return [Check("credentials", False, describe(refusal))]
    client = get_client()
    checks = [_reachable(client)]
    if not checks[0].ok:
        return checks
    checks.append(_authenticated(client))
    if not checks[1].ok:
        return checks
    checks += _mappings(client)
    checks += [_entity_set(client, migrator) for migrator in entities.ordered()]
    checks.append(_skew(client, probe, max_skew_seconds))
    return checks


def _mappings(client):
    """One check a mapping: does it agree with the CRM's `$metadata` (`mapping_check`)?"""
    try:
        types = edmx.parse(client.metadata())
    except (cdms.CDMSError, ET.ParseError) as exc:
        return [Check("$metadata", False, f"could not read the CRM's $metadata to check the mappings: {exc}")]
    checks = []
    for migrator in entities.ordered():
        found = mapping_check.problems(migrator, types)
        detail = "; ".join(found) if found else "agrees with the CRM's $metadata"
        checks.append(Check(f"mapping {migrator.service}", not found, detail))
    return checks


def _reachable(client):
    try:
        client.request("GET", "", idempotent=True)
    except cdms.CDMSCredentialsRefusedError:
        return Check("reachable", True, f"{cdms_settings.CDMS_BASE_URL} answered and refused the credentials")
    except cdms.CDMSConnectionError as exc:
        return Check("reachable", False, f"{cdms_settings.CDMS_BASE_URL}: no answer ({type(exc).__name__})")
    except cdms.CDMSError as exc:
        return Check("reachable", True, f"{cdms_settings.CDMS_BASE_URL} answered HTTP {exc.status}")
    return Check("reachable", True, client.service_root)


def _authenticated(client):
    try:
        client.request("GET", "", idempotent=True)
    except cdms.CDMSCredentialsRefusedError as exc:
        return Check("authenticated", False, str(exc))
    except cdms.CDMSUnauthorizedError:
        return Check(
            "authenticated", False, f"the CRM refused the credentials (CDMS_AUTH={cdms_settings.CDMS_AUTH})"
        )
    except cdms.CDMSError as exc:
        return Check("authenticated", False, str(exc))
    user = f" as {cdms_settings.CDMS_USERNAME}" if cdms_settings.CDMS_AUTH != "none" else ""
    return Check("authenticated", True, f"CDMS_AUTH={cdms_settings.CDMS_AUTH}{user}")


def _entity_set(client, migrator):
    name = f"entity set {migrator.service}Set"
    try:
        page = next(iter(client.list(migrator.service, top=1, select=[migrator.key_attribute])), [])
    except cdms.CDMSError as exc:
        return Check(name, False, str(exc))
    return Check(name, True, "readable" + ("" if page else " (empty)"))


def _skew(client, probe, max_skew_seconds):
    try:
        skew, how = _probe_skew(client) if probe else _date_skew(client)
    except cdms.CDMSError as exc:
        return Check("clock skew", False, f"could not measure: {exc}")
    if skew is None:
        return Check("clock skew", True, how)
    ok = abs(skew) <= max_skew_seconds
    return Check("clock skew", ok, f"CRM clock {skew:+.0f} s from local ({how}; limit {max_skew_seconds} s)")


def _probe_skew(client):
    # The first writable entity: the CRM's own lists and users are never written from here.
    migrator = next(m for m in entities.ordered() if not m.read_only)
    text = next((f.cdms_name for f in migrator.fields.values() if isinstance(f, StringField)), None)
    body = {text: PROBE_TEXT} if text else {}
    key = str(uuid.uuid4())
    before = timezone.now()
    record = client.create(migrator.service, body, key=key)
    after = timezone.now()
    client.delete(migrator.service, key)
    created = parse_date(record["CreatedOn"])
    # CreatedOn is truncated to the second: a CRM in step stamps a time within [before - 1 s, after].
    low, high = before - dt.timedelta(seconds=1), after
    skew = 0.0 if low <= created <= high else (created - (before + (after - before) / 2)).total_seconds()
    return skew, f"probe {migrator.service} created and deleted"


def _date_skew(client):
    client.request("GET", "", idempotent=True)
    if client.last_date is None:
        return None, "the CRM's answers carry no Date header"
    return client.last_date.skew_seconds, "the Date header of a CRM answer"
