"""Models whose records another system owns: read here, never written (a registry other apps fill).

While the legacy CRM owns a list (sectors, countries) or its users, the sync layer registers
those models as read-only (`register_read_only`) from its `AppConfig.ready()`; the admin then
shows them without add, change or delete. When the CRM is retired nothing registers them and
they become ordinary editable models.
"""

_read_only = set()


def register_read_only(model):
    """Mark `model` as owned elsewhere: shown, never edited here."""
    _read_only.add(model._meta.label_lower)


def unregister_read_only(model):
    """Forget that `model` is owned elsewhere."""
    _read_only.discard(model._meta.label_lower)


def is_read_only(model):
    """Whether `model`'s records are owned elsewhere."""
    return model._meta.label_lower in _read_only
