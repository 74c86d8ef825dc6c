"""The mapping check on entities no other mapping names: every attribute type, lookups to several entities."""

from cdms_api import edmx
from cdms_api.emulator.edmx import SHIPPED
from migrator.cdms_migrator import registered_migrators
from migrator.ops.mapping_check import problems

from .conftest import EDMX


def test_the_typed_entities_mappings_agree_with_their_document(typed):
    """Entities no other mapping names: every attribute type, lookups to several entities, activities."""
    types = {**edmx.parse(SHIPPED.read_bytes()), **edmx.parse(EDMX.read_bytes())}
    typed = [m for m in registered_migrators() if m.service.startswith("new_")]
    assert {m.service for m in typed} >= {"new_widget", "new_visit"}
    assert {m.service: problems(m, types) for m in typed} == {m.service: [] for m in typed}
