"""Model fields that outlive the legacy CRM."""

from django import forms
from django.core import exceptions
from django.db import models


class UKTIForeignKey(models.ForeignKey):
    """A foreign key between CRM-mirrored models.

    It is nullable and leaves the child in place when the parent is deleted, because
    the CRM holds records whose parent is empty or gone.
    """

    def __init__(self, to, on_delete=models.SET_NULL, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(to, on_delete=on_delete, **kwargs)


class OpenChoiceSelect(forms.Select):
    """A select that also shows a current value its choices lack, instead of silently picking another."""

    def optgroups(self, name, value, attrs=None):
        """The options, plus one for each current value the choices lack."""
        groups = super().optgroups(name, value, attrs)
        known = {str(choice) for choice, _ in self.choices}
        for index, current in enumerate(v for v in value if v not in ("", "None") and v not in known):
            option = self.create_option(
                name, current, f"{current} (not among the choices)", True, len(groups) + index
            )
            groups.append((None, [option], len(groups)))
        return groups


class OpenChoiceFormField(forms.TypedChoiceField):
    """A choice of whole numbers that also takes one the choices lack (another system's newer option)."""

    widget = OpenChoiceSelect

    def valid_value(self, value):
        """Any whole number is valid; the choices only name the known ones."""
        try:
            int(value)
        except (TypeError, ValueError):
            return super().valid_value(value)
        return True


class OptionSetField(models.IntegerField):
    """A whole number with named choices that also holds values the choices lack.

    The CRM's option sets (picklists) grow: another system may store an option this model does not
    name yet. Such a value is kept and shown (the admin lists it beside the choices, the API
    writes it as it is), never refused or replaced.
    """

    def validate(self, value, model_instance):
        """Django's checks, except that a value outside the choices is allowed."""
        if not self.editable:
            return
        if value is None and not self.null:
            raise exceptions.ValidationError(self.error_messages["null"], code="null")
        if not self.blank and value in self.empty_values:
            raise exceptions.ValidationError(self.error_messages["blank"], code="blank")

    def formfield(self, **kwargs):
        """A select of the choices that keeps a value they lack."""
        return super().formfield(**{"choices_form_class": OpenChoiceFormField, **kwargs})


class RecordReference(models.CharField):
    """A reference to a record of one of several kinds, kept as `<kind>/<key>` (`contact/3f2c...`).

    For a link that may point at records of different kinds (a contact's parent: an organisation
    or a contact), or at records this service does not hold (a record's owner, a user of the
    legacy CRM). The kind is kept beside the key, so the link survives as it was. Nullable: an
    empty link is None.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)
