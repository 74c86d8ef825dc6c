"""Signal handlers of the sync layer.

django-reversion restores a version with a raw save (`Model.save_base(raw=True)`), which
skips `CDMSModel.save()`. So that reverting a version reaches the CRM like any other
write, a raw save of a synced model pushes the whole row to the CRM first (MERGE, or a
create under its key if the CRM no longer has it) and stores the CRM's answer. The
admin's "view an old version" page mutes signals and reads inside `skip_cdms()`, so
looking at history never writes to the CRM. Fixtures loaded with `loaddata` are raw saves
too: load them inside `skip_cdms()` to keep them local.
"""

import uuid

from django.db.models.signals import pre_save
from django.dispatch import receiver

from cdms_api.exceptions import CDMSNotFoundError

from .cdms_migrator import get_migrator
from .connection import get_client
from .context import is_skipping
from .writes import apply_record, crm_values


@receiver(pre_save, dispatch_uid="migrator.push_raw_save")
def push_raw_save(sender, instance, raw=False, **kwargs):
    """Push a raw save (a reverted version, a fixture) of a synced model to the CRM."""
    migrator = get_migrator(sender)
    if not raw or migrator is None or is_skipping():
        return
    client = get_client()
    body = crm_values(instance, migrator.fields)
    if instance.cdms_pk:
        try:
            client.update(migrator.service, instance.cdms_pk, body)
            record = client.get(migrator.service, instance.cdms_pk)
        except CDMSNotFoundError:
            record = client.create(migrator.service, body, key=instance.cdms_pk)
    else:
        record = client.create(migrator.service, body, key=str(uuid.uuid4()))
    apply_record(instance, record)
