"""A paginator whose deep pages read their keys from the order's index before their rows.

`OFFSET n` makes the database step over n rows. PostgreSQL fetches each of them from the table
even when an index gives the order, so page 2,000 of a 100,000-row list reads 50,000 rows to
show 25. Asking first for the page's primary keys alone lets it walk the index without
touching the table (an index-only scan); the 25 rows are then read by key, in the same order.
Shallow pages keep the one statement: below `DEEP_OFFSET` the skipped rows cost less than a
second statement does.
"""

from django.core.paginator import Paginator

# Rows skipped past which a page is read keys first (about 20 pages of 25).
DEEP_OFFSET = 500


class IndexedPaginator(Paginator):
    """Django's Paginator; a page past DEEP_OFFSET rows of a queryset is read keys first."""

    def page(self, number):
        """Return a Page object for the given 1-based page number."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        if bottom < DEEP_OFFSET or not hasattr(rows, "values_list") or rows.query.combinator:
            return self._get_page(rows[bottom:top], number, self)
        keys = list(rows.values_list("pk", flat=True)[bottom:top])
        return self._get_page(rows.filter(pk__in=keys), number, self)
