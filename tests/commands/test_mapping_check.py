"""cdms_check's mapping check: every mapping against the CRM's `$metadata`, and the problems it names."""

from types import SimpleNamespace

import pytest

from cdms_api import edmx
from cdms_api import fields as f
from cdms_api.emulator.edmx import SHIPPED
from contact.models import Contact
from interaction.models import Interaction
from migrator.mirror import entities
from migrator.ops.health import run_checks
from migrator.ops.mapping_check import problems
from organisation.models import Organisation


@pytest.fixture(scope="module")
def cdms_2016():
    """The entity types of the real CDMS's schema, as the emulator serves it."""
    return edmx.parse(SHIPPED.read_bytes())


def mapping(model, service, key=None, **fields):
    return SimpleNamespace(model_class=model, service=service, key_attribute=key or f"{service}Id",
                           fields=fields, read_only=False)  # fmt: skip


def test_every_mapping_of_the_domain_agrees_with_the_cdms_schema(cdms_2016):
    found = {migrator.service: problems(migrator, cdms_2016) for migrator in entities.ordered()}
    assert len(found) == 16  # 12 lists and teams, advisers, companies, contacts, interactions
    assert found == {service: [] for service in found}


def test_cdms_check_reads_the_metadata_once_and_checks_every_mapping(cdms):
    checks = run_checks(probe=False)
    mappings = [check for check in checks if check.name.startswith("mapping ")]
    assert len(mappings) == 16 and all(check.ok for check in mappings)
    assert sum(1 for _, path in cdms.stats.requests if "$metadata" in path) == 1


@pytest.mark.parametrize(
    "field, expected",
    [
        (("name", f.StringField("Nmae")), "name: Account has no attribute Nmae"),
        (("name", f.IntegerField("Name")), "mapped as IntegerField (Edm.Int32), but the CRM's type is Edm.String"),
        (("city", f.StringField("Address1_City")), None),
        (
            ("name", f.StringField("optevia_CompaniesHouseNumber")),
            "the model accepts 160 characters, the CRM keeps 8",
        ),
        (
            ("name", f.StringField("StateCode")),
            "mapped as StringField (Edm.String), but the CRM's type is OptionSetValue",
        ),
        (("name", f.StringField("Name")), None),
        (("name", f.StringField("AccountNumber")), "the model accepts 160 characters, the CRM keeps 100"),
        (("name", f.LookupField("CreatedBy", "SystemUser", writable=True)), "the CRM sets it itself"),
        (("name", f.LookupField("CreatedBy", "SystemUser", writable=False)), None),
    ],
)
def test_each_kind_of_disagreement_is_named(cdms_2016, field, expected):
    name, cdms_field = field
    found = problems(mapping(Organisation, "Account", **{name: cdms_field}), cdms_2016)
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found


def test_a_lookup_that_may_point_at_another_entity_must_say_so(cdms_2016):
    bare = mapping(Contact, "Contact", organisation=f.LookupField("ParentCustomerId", "Account"))
    assert problems(bare, cdms_2016) == [
        "organisation (ParentCustomerId): may also refer to contact: declare other_targets=['contact'] "
        "(such a reference reads as no parent, and `isnull` filters must know)"
    ]
    wrong = mapping(
        Interaction, "detica_interaction", "ActivityId", contact=f.LookupField("optevia_Contact", "Account")
    )
    assert problems(wrong, cdms_2016) == ["contact (optevia_Contact): refers to contact, not account"]


def test_a_missing_entity_set_and_a_wrong_key_are_named(cdms_2016):
    assert problems(mapping(Organisation, "Acount"), cdms_2016) == [
        "the CRM's $metadata has no entity set AcountSet"
    ]
    assert problems(mapping(Organisation, "Account", key="AccountNumber"), cdms_2016) == [
        "the key is AccountId, not AccountNumber"
    ]
