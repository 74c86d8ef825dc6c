"""Managers that outlive the legacy CRM (see `CRMBaseModel`), and `local_only()`.

While the CRM is live, `CRMManager` reads and writes through it and `local_only()` is the
sync layer's `skip_cdms()` (a block in which no ORM call reaches the CRM). When the CRM is
retired `CRMManager` is a plain manager and `local_only()` does nothing (docs/retiring-cdms.md).
"""

# The seam: retiring the CRM replaces these two imports (docs/retiring-cdms.md).
from migrator.context import skip_cdms as local_only
from migrator.managers import CDMSManager as BaseManager

__all__ = ["CRMManager", "local_only"]


class CRMManager(BaseManager):
    """Default manager of CRM-mirrored models."""
