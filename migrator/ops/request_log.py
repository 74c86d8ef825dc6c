"""One log line per CRM request, with its method, entity, status, latency and attempt as fields.

Logged at INFO on the `migrator.crm_requests` logger, which the settings keep quiet unless
LOG_FORMAT=json: there each line is one JSON object, and the request id of the web request
(or task) that caused it ties the CRM calls to it.
"""

import logging

from ..instruments import entity_of, outcome_of

log = logging.getLogger("migrator.crm_requests")


def log_request(record):
    """Log one CRM request (a `cdms_api.counting.RequestRecord`)."""
    if not log.isEnabledFor(logging.INFO):
        return
    fields = {
        "crm_method": record.method,
        "crm_entity": entity_of(record.entity_set),
        "crm_status": record.status,
        "crm_outcome": outcome_of(record.status),
        "crm_ms": round(record.ms, 1),
        "crm_attempt": record.attempt,
    }
    log.info(
        "CRM %s %s -> %s in %.0f ms",
        record.method,
        fields["crm_entity"],
        record.status or "no answer",
        record.ms,
        extra=fields,
    )
