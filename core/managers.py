"""Managers that outlive the legacy CRM (see `CRMBaseModel`)."""

from migrator.managers import CDMSManager


class CRMManager(CDMSManager):
    """Default manager of CRM-mirrored models."""
