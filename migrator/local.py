"""Writing the local database alone: the one way the sync layer bypasses its own CRM path.

The writer stores what the CRM answered, compensation and bulk jobs touch rows the CRM has
already seen: all of them use these helpers, which never call the CRM, and all of them name
the database alias they write to (a model's `objects` would sync, and its `save()` would
write through the CRM again).
"""

from django.db import models, router


def alias_for_write(model, instance=None, using=None):
    """The database alias a write of `model` goes to: `using`, or the router's choice."""
    return using or router.db_for_write(model, instance=instance)


def save_locally(instance, using, **kwargs):
    """Save an instance to the local database only (Django's own `Model.save`)."""
    models.Model.save(instance, using=using, **kwargs)


def delete_locally(instance, using, **kwargs):
    """Delete an instance (and what Django cascades) from the local database only."""
    return models.Model.delete(instance, using=using, **kwargs)


def local_rows(model, using):
    """A plain queryset of the model's local rows on `using`, which never calls the CRM."""
    return models.QuerySet(model, using=using)
