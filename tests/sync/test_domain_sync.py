"""The 2016 domain through the sync layer: lookups between many entities, parents the mirror lacks, the cascade.

Records are made in the emulator as another CRM user would make them; the service sees them
through reads and follower rounds. Every count is of real HTTP requests to the emulator.
"""

import pytest
from django.test import override_settings

from adviser.models import Adviser
from cdms_api.counting import count_requests
from contact.models import Contact
from interaction.models import Interaction
from metadata.models import Country, InteractionType, Sector, Service, Team
from migrator.exceptions import ReadOnlyEntityError
from migrator.mirror import entities
from migrator.mirror.follower import follow
from migrator.mirror.sweep import sweep
from organisation.models import Organisation
from tests.crm_records import seed_account, seed_contact

HOLDER = "test-domain"


def local(model):
    return model.objects.skip_cdms()


def full_round():
    """One follower round over every entity (lists and users first), then a key sweep of each."""
    models = [migrator.model_class for migrator in entities.ordered()]
    for model in models:
        follow(model, HOLDER)
    for model in models:
        sweep(model, HOLDER, partitions=1)
    return models


def ref(key, logical):
    return {"Id": key, "LogicalName": logical}


def seed(crm, entity, **attrs):
    """Insert a record of `entity` into the emulator; returns its key."""
    record = crm.store.insert(entity, attrs)
    return next(value for name, value in record.items() if name == crm.store.entity(entity).key).lower()


@pytest.fixture
def domain(cdms):
    """A sector under a parent, a country, a team with an adviser, a company, its contact and an interaction."""
    keys = {"energy": seed(cdms, "optevia_sector", optevia_name="Energy")}
    keys["nuclear"] = seed(
        cdms, "optevia_sector", optevia_name="Nuclear", optevia_ParentSector=ref(keys["energy"], "optevia_sector")
    )
    keys["uk"] = seed(cdms, "optevia_country", optevia_Country="United Kingdom")
    keys["team"] = seed(cdms, "BusinessUnit", Name="Trade - Leeds")
    keys["adviser"] = seed(
        cdms, "SystemUser", FirstName="Bob", LastName="Day", BusinessUnitId=ref(keys["team"], "businessunit")
    )
    keys["phone"] = seed(cdms, "optevia_interactioncommunicationchannel", optevia_name="Telephone")
    keys["service"] = seed(cdms, "optevia_service", optevia_name="Export Win")
    keys["org"] = seed_account(
        cdms,
        "Acme",
        optevia_Sector=ref(keys["nuclear"], "optevia_sector"),
        optevia_Country=ref(keys["uk"], "optevia_country"),
    )
    keys["contact"] = seed_contact(
        cdms, "Ann", "Lee", account=keys["org"], optevia_Country=ref(keys["uk"], "optevia_country")
    )
    keys["interaction"] = seed(
        cdms,
        "detica_interaction",
        Subject="Export plan review",
        optevia_Organisation=ref(keys["org"], "account"),
        optevia_Contact=ref(keys["contact"], "contact"),
        optevia_Advisor=ref(keys["adviser"], "systemuser"),
        optevia_ServiceProvider=ref(keys["team"], "businessunit"),
        optevia_InteractionCommunicationChannel=ref(keys["phone"], "optevia_interactioncommunicationchannel"),
        optevia_Service=ref(keys["service"], "optevia_service"),
    )
    return keys


def test_a_round_loads_lists_teams_and_advisers_before_what_points_at_them(domain):
    order = [model.__name__ for model in full_round()]
    assert order.index("Team") < order.index("Adviser") < order.index("Interaction")
    assert (
        order.index("Sector") < order.index("Organisation") < order.index("Contact") < order.index("Interaction")
    )
    found = local(Interaction).select_related("organisation", "contact", "adviser__team", "service").get()
    assert found.organisation.name == "Acme" and found.contact.first_name == "Ann"
    assert found.adviser.last_name == "Day" and found.adviser.team.name == "Trade - Leeds"
    assert found.team.cdms_pk == domain["team"] and found.interaction_type.name == "Telephone"
    assert local(Sector).get(name="Nuclear").parent.name == "Energy"
    assert local(Organisation).get().sector.name == "Nuclear"


def test_a_company_whose_sector_the_mirror_lacks_brings_it_in_one_batched_request(domain):
    with count_requests() as counter:
        acme = Organisation.objects.get(cdms_pk=domain["org"])
    assert acme.sector.name == "Nuclear" and acme.country.name == "United Kingdom"
    assert local(Sector).get(name="Nuclear").parent.name == "Energy"  # the parent's parent came too
    # The company; then its sector and its country, one request each; then the sector's parent.
    assert counter.count == 4


def test_an_interaction_read_first_brings_in_every_parent(domain):
    with count_requests() as counter:
        found = Interaction.objects.get(cdms_pk=domain["interaction"])
    assert (found.organisation.name, found.contact.last_name, found.adviser.first_name) == ("Acme", "Lee", "Bob")
    assert found.adviser.team_id == found.team_id
    # The interaction; one request for each of its six kinds of parent; then the company's
    # sector and country, the sector's parent, and the contact's country (already there).
    assert counter.count <= 11
    assert local(Interaction).count() == 1 and local(Adviser).count() == 1


def test_a_follower_round_of_interactions_alone_loses_no_record_whose_parents_are_missing(domain):
    follow(Interaction, HOLDER)
    found = local(Interaction).get()
    assert found.organisation.cdms_pk == domain["org"] and found.contact.cdms_pk == domain["contact"]
    assert found.adviser.cdms_pk == domain["adviser"] and found.service.cdms_pk == domain["service"]


def test_an_interaction_whose_contact_was_deleted_in_the_crm_stays_unlinked(domain, cdms):
    full_round()
    cdms.store.delete("Contact", domain["contact"])
    full_round()
    assert not local(Contact).exists()
    found = local(Interaction).get()
    assert found.contact_id is None and found.organisation.name == "Acme"
    assert Interaction.objects.get(pk=found.pk).contact is None  # a strict read agrees


def test_a_strict_read_of_an_interaction_whose_contact_the_crm_deleted_unlinks_it(domain, cdms):
    follow(Interaction, HOLDER)
    cdms.store.delete("Contact", domain["contact"])
    found = Interaction.objects.get(cdms_pk=domain["interaction"])
    assert found.contact is None and found.subject == "Export plan review"
    assert local(Contact).filter(cdms_pk=domain["contact"]).exists()  # only a read of contacts proves it gone
    assert not Contact.objects.filter(cdms_pk=domain["contact"]).exists()
    assert not local(Contact).filter(cdms_pk=domain["contact"]).exists()


def test_deleting_an_account_in_the_crm_deletes_its_contacts_and_unlinks_its_interactions(domain, cdms):
    full_round()
    cdms.store.delete("Account", domain["org"])
    assert cdms.store.get("Contact", domain["contact"]) is None
    record = cdms.store.get("detica_interaction", domain["interaction"])
    assert record["optevia_Organisation"]["Id"] is None and record["optevia_Contact"]["Id"] is None
    full_round()
    assert not local(Organisation).exists() and not local(Contact).exists()
    found = local(Interaction).get()
    assert (found.organisation_id, found.contact_id) == (None, None)
    assert found.adviser.last_name == "Day"


def test_deleting_a_company_here_deletes_its_contacts_and_unlinks_its_interactions_on_both_sides(domain, cdms):
    full_round()
    Organisation.objects.get(cdms_pk=domain["org"]).delete()
    assert (
        cdms.store.get("Account", domain["org"]) is None and cdms.store.get("Contact", domain["contact"]) is None
    )
    assert not local(Contact).exists()
    found = Interaction.objects.get(cdms_pk=domain["interaction"])
    assert (found.organisation_id, found.contact_id) == (None, None)
    record = cdms.store.get("detica_interaction", domain["interaction"])
    assert record["optevia_Organisation"]["Id"] is None


def test_an_interaction_is_written_with_its_lookups_and_keyed_by_activity_id(domain, cdms):
    full_round()
    org, contact = local(Organisation).get(), local(Contact).get()
    with count_requests() as counter:
        made = Interaction.objects.create(
            subject="Visit",
            organisation=org,
            contact=contact,
            service=local(Service).get(),
            team=local(Team).get(),
        )
    assert counter.count == 1  # the POST, keyed by a client-made ActivityId
    record = cdms.store.get("detica_interaction", made.cdms_pk)
    assert record["ActivityId"].lower() == made.cdms_pk
    assert record["optevia_Contact"] == {"Id": domain["contact"], "LogicalName": "contact", "Name": "Ann Lee"}
    assert record["optevia_Service"]["Id"] == domain["service"]
    made.contact = None
    made.save()
    assert cdms.store.get("detica_interaction", made.cdms_pk)["optevia_Contact"]["Id"] is None


def test_a_company_changes_its_sector_and_the_crm_gets_the_new_one(domain, cdms):
    full_round()
    acme = Organisation.objects.get(cdms_pk=domain["org"])
    acme.sector = local(Sector).get(name="Energy")
    with count_requests() as counter:
        acme.save()
    assert counter.count == 2  # MERGE, then the record read back
    assert cdms.store.get("Account", domain["org"])["optevia_Sector"]["Id"] == domain["energy"]


@pytest.mark.parametrize("model", [Sector, Country, Team, Adviser, InteractionType])
def test_a_list_is_never_written(domain, cdms, model):
    full_round()
    row = local(model).first()
    with count_requests() as counter, pytest.raises(ReadOnlyEntityError, match="read-only"):
        row.save()
    with pytest.raises(ReadOnlyEntityError):
        model.objects.create()
    with pytest.raises(ReadOnlyEntityError):
        row.delete()
    assert counter.count == 0
    assert local(model).filter(pk=row.pk).exists()


@override_settings(CDMS_MAX_STALENESS=None)
def test_filters_through_lookups_are_answered_from_the_crm(domain):
    full_round()
    assert [o.name for o in Organisation.objects.filter(sector__name="Nuclear")] == ["Acme"]
    assert [i.subject for i in Interaction.objects.filter(adviser__last_name="Day")] == ["Export plan review"]
    assert [c.first_name for c in Contact.objects.filter(country__name="United Kingdom")] == ["Ann"]


def _second_company(cdms, domain):
    """Bolt, in the Energy sector, with an interaction of its own."""
    bolt = seed_account(cdms, "Bolt", optevia_Sector=ref(domain["energy"], "optevia_sector"))
    seed(cdms, "detica_interaction", Subject="Bolt visit", optevia_Organisation=ref(bolt, "account"))
    return bolt


@override_settings(CDMS_MAX_STALENESS=None)
def test_a_filter_through_two_relations_reads_each_relation_from_the_crm(domain, cdms):
    _second_company(cdms, domain)
    with count_requests() as counter:
        found = Interaction.objects.filter(organisation__sector__name="Nuclear")
        assert [i.subject for i in found] == ["Export plan review"]
    # Sectors named Nuclear; companies in them; interactions of those companies: three reads.
    # Beside them, the parents the mirror lacked, one request for each kind: the sector's parent,
    # the company's country, and the interaction's channel, adviser, team, contact and service.
    sets = [request.entity_set for request in counter.requests]
    companies = counter.requests[sets.index("AccountSet")]
    interactions = counter.requests[sets.index("detica_interactionSet")]
    assert sets.index("optevia_sectorSet") < sets.index("AccountSet") < sets.index("detica_interactionSet")
    assert "optevia_Sector/Id eq guid" in companies.option("$filter")
    assert "optevia_Organisation/Id eq guid" in interactions.option("$filter")
    assert counter.count == 10
    assert local(Interaction).filter(subject="Bolt visit").exists() is False  # never read: not asked for


@override_settings(CDMS_MAX_STALENESS=None)
def test_a_filter_through_two_relations_sees_what_another_crm_user_changed_in_the_middle(domain, cdms):
    bolt = _second_company(cdms, domain)
    full_round()
    # Another CRM user moves Acme out of Nuclear and Bolt into it.
    cdms.store.update("Account", domain["org"], {"optevia_Sector": ref(domain["energy"], "optevia_sector")})
    cdms.store.update("Account", bolt, {"optevia_Sector": ref(domain["nuclear"], "optevia_sector")})
    assert [i.subject for i in Interaction.objects.filter(organisation__sector__name="Nuclear")] == ["Bolt visit"]
    # ... and renames the sector the companies point at: the far end is read fresh too.
    cdms.store.update("optevia_sector", domain["nuclear"], {"optevia_name": "Nuclear power"})
    assert list(Interaction.objects.filter(organisation__sector__name="Nuclear")) == []
    assert [i.subject for i in Interaction.objects.filter(organisation__sector__name__startswith="Nuclear p")] == [
        "Bolt visit"
    ]


@override_settings(CDMS_MAX_STALENESS=None)
def test_a_filter_through_two_relations_either_way_matches_the_mirror(domain, cdms):
    bolt = _second_company(cdms, domain)
    seed_contact(cdms, "Cy", "Hill", account=bolt)
    # Contacts of companies that have an interaction with a telephone channel; the way back from
    # a company to its interactions is a relation in the other direction.
    asked = Contact.objects.filter(organisation__interactions__interaction_type__name="Telephone")
    assert [c.first_name for c in asked] == ["Ann"]
    full_round()
    assert [c.first_name for c in asked.skip_cdms()] == ["Ann"]
    # A company through its contacts to their country, and its interactions' adviser's team.
    assert [o.name for o in Organisation.objects.filter(contacts__country__name="United Kingdom")] == ["Acme"]
    by_team = Organisation.objects.filter(interactions__adviser__team__name="Trade - Leeds")
    assert [o.name for o in by_team] == ["Acme"]


@override_settings(CDMS_MAX_STALENESS=None)
def test_ordering_and_values_through_two_relations_sync_every_row_on_the_way(domain, cdms):
    _second_company(cdms, domain)
    full_round()
    cdms.store.update("optevia_sector", domain["energy"], {"optevia_name": "Power"})
    values = Interaction.objects.order_by("subject").values_list("subject", "organisation__sector__name")
    assert list(values) == [("Bolt visit", "Power"), ("Export plan review", "Nuclear")]
    assert local(Sector).get(cdms_pk=domain["energy"]).name == "Power"


@pytest.fixture
def contact_under_contact(cdms, domain):
    """Cy, whose parent customer is the contact Ann (CRM 2011 allows an account or a contact)."""
    return seed_contact(cdms, "Cy", "Hill", ParentCustomerId=ref(domain["contact"], "contact"))


@override_settings(CDMS_MAX_STALENESS=None)
def test_a_contact_under_a_contact_reads_with_no_organisation_at_one_request(cdms, contact_under_contact):
    with count_requests() as counter:
        cy = Contact.objects.get(cdms_pk=contact_under_contact)
    assert cy.organisation is None
    assert counter.count == 1  # no by-key request for an account that is a contact's key


@override_settings(CDMS_MAX_STALENESS=None)
def test_contacts_without_an_organisation_include_those_under_a_contact(cdms, domain, contact_under_contact):
    loner = seed_contact(cdms, "Dee", "Ray")
    asked = Contact.objects.filter(organisation__isnull=True)
    assert sorted(c.first_name for c in asked) == ["Cy", "Dee"]  # from an empty mirror
    assert {c.cdms_pk for c in asked.skip_cdms()} == {contact_under_contact, loner}
    assert [c.first_name for c in Contact.objects.filter(organisation__isnull=False)] == ["Ann"]
    assert sorted(c.first_name for c in Contact.objects.exclude(organisation__name="Acme")) == ["Cy", "Dee"]


@override_settings(CDMS_MAX_STALENESS=None)
def test_saving_a_contact_under_a_contact_keeps_that_parent_in_the_crm(cdms, domain, contact_under_contact):
    follow(Contact, HOLDER)
    cy = Contact.objects.get(cdms_pk=contact_under_contact)
    cy.job_title = "Buyer"
    cy.save()
    stored = cdms.store.get("Contact", contact_under_contact)
    assert stored["JobTitle"] == "Buyer"
    assert stored["ParentCustomerId"]["Id"] == domain["contact"]
    assert stored["ParentCustomerId"]["LogicalName"] == "contact"
    assert local(Contact).get(cdms_pk=contact_under_contact).organisation is None


@override_settings(CDMS_MAX_STALENESS=None)
def test_excluding_through_a_relation_to_the_same_entity_sees_what_the_crm_changed(domain, cdms):
    full_round()
    solar = seed(
        cdms, "optevia_sector", optevia_name="Solar", optevia_ParentSector=ref(domain["energy"], "optevia_sector")
    )
    # Sectors none of whose children is called Nuclear: every sector but Energy.
    assert sorted(s.name for s in Sector.objects.exclude(children__name="Nuclear")) == ["Nuclear", "Solar"]
    cdms.store.delete("optevia_sector", domain["nuclear"])  # deleted in the CRM; the mirror still has it
    assert sorted(s.name for s in Sector.objects.exclude(children__name="Nuclear")) == ["Energy", "Solar"]
    assert sorted(s.name for s in Sector.objects.exclude(parent__children__name="Solar")) == ["Energy"]
    assert solar in {s.cdms_pk for s in Sector.objects.filter(parent__name="Energy")}
