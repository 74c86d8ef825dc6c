"""Signal handlers of the sync layer.

django-reversion restores a version with a raw save (`Model.save_base(raw=True)`), which
skips `CDMSModel.save()`. So that reverting a version reaches the CRM like any other
write, a raw save of a synced model goes through the writer first (`writes.save_raw`:
every mapped field is sent, or the record re-created under its key if the CRM no longer
has it, and the CRM's answer stored). The admin's "view an old version" page mutes
signals and reads inside `skip_cdms()`, so looking at history never writes to the CRM.
Fixtures loaded with `loaddata` are raw saves too: load them inside `skip_cdms()` to keep
them local.
"""

from django.db.models.signals import pre_save
from django.dispatch import receiver

from ..cdms_migrator import get_migrator
from ..context import is_skipping
from .writer import save_raw


@receiver(pre_save, dispatch_uid="migrator.push_raw_save")
def push_raw_save(sender, instance, raw=False, using=None, **kwargs):
    """Push a raw save (a reverted version, a fixture) of a synced model to the CRM."""
    if not raw or get_migrator(sender) is None or is_skipping():
        return
    save_raw(instance, using)
