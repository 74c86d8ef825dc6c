"""Filter parameters for lookups (foreign keys): `?sector=3`, `?sector__in=3,4`, `?sector__isnull=true`.

A lookup is written and read as the related row's id, so it filters by id too: any whole number
(no such row: no results, never a 400 for an id that could exist tomorrow), a list of them, or
whether it is empty. A `FilterSet` built on `LinkFilterSet` names its lookups in `Meta.links`.
"""

from .api_filters import BooleanFilter, FilterSet, IntegerFilter, IntegerInFilter


def link_filters(name):
    """The three parameters of the lookup `name`: its id, a list of ids, and `isnull`."""
    return {
        name: IntegerFilter(field_name=name),
        f"{name}__in": IntegerInFilter(field_name=name, lookup_expr="in"),
        f"{name}__isnull": BooleanFilter(field_name=name, lookup_expr="isnull"),
    }


class LinkFilterSet(FilterSet):
    """A strict FilterSet that adds `link_filters` for each lookup named in `Meta.links`."""

    @classmethod
    def get_filters(cls):
        """The declared and generated filters, plus those of every lookup in `Meta.links`."""
        filters = super().get_filters()
        for name in getattr(getattr(cls, "Meta", None), "links", ()):
            filters.update(link_filters(name))
        return filters
