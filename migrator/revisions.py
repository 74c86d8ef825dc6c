"""django-reversion glue: versions for rows written in bulk by the sync layer.

Rows refreshed from the CRM are written with one SQL statement per page, bypassing
model signals, so their versions are recorded here, also in bulk: one revision with
the comment `CDMS refresh` per refreshed row, written with two statements a page.
"""

import json

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from reversion.models import Revision, Version

REFRESH_COMMENT = "CDMS refresh"


def record_versions(model, instances, comment=REFRESH_COMMENT, using="default"):
    """One revision per instance, with `comment` and no user, in two statements."""
    if not instances:
        return
    now = timezone.now()
    revisions = Revision.objects.using(using).bulk_create(
        [Revision(date_created=now, comment=comment, user=None) for _ in instances]
    )
    content_type = ContentType.objects.db_manager(using).get_for_model(model)
    Version.objects.using(using).bulk_create(
        [
            Version(
                revision=revision,
                object_id=str(instance.pk),
                content_type=content_type,
                db=using,
                format="json",
                serialized_data=serialize(instance),
                object_repr=str(instance)[:191],
            )
            for revision, instance in zip(revisions, instances, strict=True)
        ]
    )


def serialize(instance):
    """The instance in Django's JSON serialization format, as django-reversion stores it.

    Equivalent to `serializers.serialize("json", [instance])` for models without
    many-to-many fields, at a fraction of the cost, which matters for a page of 50.
    """
    meta = instance._meta
    fields = {
        field.name: field.value_from_object(instance)
        for field in meta.local_concrete_fields
        if not field.primary_key
    }
    return json.dumps([{"model": meta.label_lower, "pk": instance.pk, "fields": fields}], cls=DjangoJSONEncoder)
