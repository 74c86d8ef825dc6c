"""`$metadata` is a full EDMX: every navigation property names an Association and its roles."""

from xml.etree import ElementTree as etree

from tests.emulator.wire import get

EDM = "{http://schemas.microsoft.com/ado/2007/05/edm}"
NS = "Microsoft.Crm.Sdk.Data.Services."


def _document(crm):
    response = get(crm, "$metadata", headers={})
    assert response.status_code == 200
    return etree.fromstring(response.content)


def test_every_navigation_property_has_an_association_and_an_association_set(crm):
    document = _document(crm)
    associations = {a.get("Name"): a for a in document.iter(f"{EDM}Association")}
    sets = {a.get("Association"): a for a in document.iter(f"{EDM}AssociationSet")}
    navigations = list(document.iter(f"{EDM}NavigationProperty"))
    assert len(navigations) > 200  # the 2016 domain's entities and the relationships between them
    for navigation in navigations:
        name = navigation.get("Relationship").removeprefix(NS)
        roles = {end.get("Role"): end for end in associations[name].iter(f"{EDM}End")}
        assert {navigation.get("FromRole"), navigation.get("ToRole")} == set(roles)
        set_roles = {end.get("Role"): end.get("EntitySet") for end in sets[NS + name].iter(f"{EDM}End")}
        assert set_roles == {role: end.get("Type").removeprefix(NS) + "Set" for role, end in roles.items()}


def test_the_account_contact_relationship_is_one_to_many_from_the_lookup(crm):
    ends = {
        end.get("Role"): (end.get("Type"), end.get("Multiplicity"))
        for association in _document(crm).iter(f"{EDM}Association")
        if association.get("Name") == "contact_customer_accounts"
        for end in association.iter(f"{EDM}End")
    }
    assert ends == {
        "contact_customer_accounts_Referenced": (NS + "Account", "0..1"),
        "contact_customer_accounts_Referencing": (NS + "Contact", "*"),
    }
