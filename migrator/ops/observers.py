"""What the sync layer does with every CRM request the client reports: metrics and a log line."""

from cdms_api import counting

from ..instruments import observe_request
from .request_log import log_request


def install():
    """Observe every CRM request of this process (idempotent)."""
    counting.add_observer(observe_request)
    counting.add_observer(log_request)
