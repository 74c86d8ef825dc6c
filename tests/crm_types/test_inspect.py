"""`manage.py cdms_inspect` writes a synced model and its mapping from a CRM's `$metadata`."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cdms_api import edmx

from .conftest import EDMX

HERE = Path(__file__).parent


def inspect(*args):
    out = io.StringIO()
    call_command("cdms_inspect", *args, stdout=out)
    return out.getvalue()


def test_the_test_app_is_what_cdms_inspect_wrote(tmp_path):
    """The models and mapping this app syncs with were generated, then only given option labels."""
    inspect("new_widgetSet", "new_visitSet", "--metadata", str(EDMX), "--app", "crm_types", "--out", str(tmp_path))
    generated_mapping = (tmp_path / "cdms_migrator.py").read_text()
    mapping = (HERE / "cdms_migrator.py").read_text()
    assert mapping.startswith(generated_mapping)
    assert "class ReferenceWidgetMigrator(WidgetMigrator)" in mapping[len(generated_mapping) :]
    generated_models = (tmp_path / "models.py").read_text()
    edited = generated_models.replace(
        "    colour = OptionSetField(null=True, blank=True)  # add the option labels as choices",
        "    colour = OptionSetField(choices=COLOURS, null=True, blank=True)",
    ).replace(
        "\n\n@reversion.register()\nclass Widget(",
        '\nCOLOURS = [(1, "Red"), (2, "Green"), (3, "Blue")]\n\n\n@reversion.register()\nclass Widget(',
    )
    assert (HERE / "models.py").read_text().startswith(edited)


def test_each_type_gets_its_field_and_converter():
    text = inspect("new_widgetSet", "--metadata", str(EDMX), "--app", "things")
    for line in [
        "    name = models.CharField(max_length=100, blank=True)",
        "    notes = models.TextField(max_length=10000, blank=True)",
        "    quantity = models.IntegerField(null=True, blank=True)",
        "    big_count = models.BigIntegerField(null=True, blank=True)",
        "    rate = models.DecimalField(max_digits=23, decimal_places=2, null=True, blank=True)",
        "    weight = models.FloatField(null=True, blank=True)",
        "    price = models.DecimalField(max_digits=19, decimal_places=4, null=True, blank=True)",
        "    active = models.BooleanField(null=True, blank=True)",
        "    delivered_on = models.DateTimeField(null=True, blank=True)",
        '    parent_widget = UKTIForeignKey("self", related_name="widgets_by_parent_widget")',
        '    account = UKTIForeignKey("organisation.Organisation", related_name="widgets_by_account")',
        "    customer = RecordReference()",
        '        "statecode": fields.OptionSetField("statecode"),',
        '        "notes": fields.MemoField("new_Notes"),',
        '        "price_base": fields.MoneyField("new_Price_Base", precision=4),',
        '        "customer": fields.ReferenceField("new_CustomerId", targets=("account", "contact")),',
        '    model = "things.Widget"',
        '    service = "new_widget"',
    ]:
        assert line in text.splitlines()


def test_an_activity_is_mapped_by_its_activity_key():
    text = inspect("new_visitSet", "--metadata", str(EDMX))
    assert '    key = "ActivityId"' in text.splitlines()
    assert '    service = "new_visit"' in text.splitlines()


def test_read_only_maps_a_list_the_crm_owns():
    assert "    read_only = True" in inspect("new_visitSet", "--metadata", str(EDMX), "--read-only").splitlines()


def test_an_unknown_entity_set_is_an_error_naming_those_there_are():
    with pytest.raises(CommandError, match=r"No entity set 'new_gadgetSet'.*new_visitSet, new_widgetSet"):
        inspect("new_gadgetSet", "--metadata", str(EDMX))


def test_an_unreadable_document_is_an_error_naming_it(tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*missing.edmx"):
        inspect("AccountSet", "--metadata", str(tmp_path / "missing.edmx"))


def test_without_a_file_it_reads_the_configured_crms_metadata(cdms):
    from cdms_api.counting import count_requests

    with count_requests() as counter:
        text = inspect("ContactSet", "--app", "people")
    assert [(r.method, r.entity_set) for r in counter.requests] == [("GET", "$metadata")]
    assert '    service = "Contact"' in text.splitlines()
    assert "    first_name = " in text


def test_a_crm_that_cannot_be_reached_is_an_error(settings, db):
    settings.CDMS_BASE_URL = "http://127.0.0.1:9"
    settings.CDMS_TIMEOUT = 0.5
    with pytest.raises(CommandError, match=r"\$metadata could not be read"):
        inspect("AccountSet")


def test_lookup_targets_come_from_the_associations_or_an_annotation():
    types = edmx.parse(EDMX.read_bytes())
    widget = {p.name: p for p in types["new_widget"].properties}
    assert widget["new_ParentWidgetId"].targets == ("new_widget",)
    assert widget["new_AccountId"].targets == ("account",)
    assert widget["new_CustomerId"].targets == ("account", "contact")
    assert widget["OwnerId"].targets == ()
    annotated = EDMX.read_text().replace(
        '<Property Name="OwnerId" Type="Microsoft.Crm.Sdk.Data.Services.EntityReference" Nullable="true" />',
        '<Property Name="OwnerId" Type="Microsoft.Crm.Sdk.Data.Services.EntityReference" Nullable="true" '
        'xmlns:crm="urn:cdms:attribute-metadata" crm:Targets="systemuser team" />',
    )
    visit = {p.name: p for p in edmx.parse(annotated)["new_visit"].properties}
    assert visit["OwnerId"].targets == ("systemuser", "team")
