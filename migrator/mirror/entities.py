"""Which CRM entities a command works on, parents before children (Account before Contact)."""

from django.core.management.base import CommandError

from migrator.cdms_migrator import get_migrator, registered_migrators


def entity_names():
    """The CRM entity names the commands accept (besides `all`)."""
    return [migrator.service for migrator in ordered()]


def selected(entity):
    """The migrators for `--entity` (an entity name or `all`), parents first."""
    migrators = ordered()
    if entity.lower() == "all":
        return migrators
    chosen = [m for m in migrators if m.service.lower() == entity.lower()]
    if not chosen:
        raise CommandError(f"Unknown entity {entity!r}: use one of {', '.join(entity_names())} or all.")
    return chosen


def ordered():
    """Every registered migrator, each after the migrators of the models it refers to."""
    pending = sorted(registered_migrators(), key=lambda m: m.service)
    done, result = set(), []
    while pending:
        ready = [m for m in pending if _parents(m) <= done] or pending[:1]
        for migrator in ready:
            pending.remove(migrator)
            done.add(migrator.model.lower())
            result.append(migrator)
    return result


def _parents(migrator):
    model = migrator.model_class
    parents = set()
    for name in migrator.lookup_fields():
        related = get_migrator(model._meta.get_field(name).related_model)
        if related is not None and related is not migrator:
            parents.add(related.model.lower())
    return parents
