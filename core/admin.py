"""Admin building blocks shared by the domain apps: version history that never writes to the CRM.

django-reversion shows an old version by reverting the object inside a transaction,
rendering the change form, and rolling back. With a CRM-synced model that revert would be
a real CRM write (and the form's read a CRM read), so `CRMVersionAdmin` runs those GET
views inside `local_only()`: only the local database sees the revert, and it is rolled back.
Reverting for real (POST) writes through the CRM as any save does. After retirement
`local_only()` does nothing and this is plain `VersionAdmin` behaviour.

A model whose records another system owns (`core.owners`) is shown read-only: no add, change
or delete, whatever the user's permissions.
"""

from contextlib import nullcontext

from reversion.admin import VersionAdmin

from .managers import local_only
from .owners import is_read_only
from .paging import IndexedPaginator


class CRMVersionAdmin(VersionAdmin):
    """A VersionAdmin whose revision and recover pages read and revert locally only."""

    list_per_page = 25
    paginator = IndexedPaginator  # deep changelist pages read their keys from the index first
    show_full_result_count = False  # one synced count per page instead of two

    def has_add_permission(self, request):
        """Nobody adds records another system owns."""
        return not is_read_only(self.model) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        """Nobody changes records another system owns (they are shown read-only)."""
        return not is_read_only(self.model) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        """Nobody deletes records another system owns."""
        return not is_read_only(self.model) and super().has_delete_permission(request, obj)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        """Shows an old version of an object without touching the CRM."""
        with _local_if_viewing(request):
            return super().revision_view(request, object_id, version_id, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        """Shows a deleted object's last version without touching the CRM."""
        with _local_if_viewing(request):
            return super().recover_view(request, version_id, extra_context)


def _local_if_viewing(request):
    return local_only() if request.method in ("GET", "HEAD") else nullcontext()
