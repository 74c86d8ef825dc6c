"""Options that several commands share, declared once so they read and behave alike."""

from migrator.mirror import entities


def add_entity(parser):
    """Add `--entity NAME|all`: which CRM entities the command works on (see `entities.selected`)."""
    names = ", ".join(entities.entity_names())
    parser.add_argument("--entity", default="all", help=f"{names} or all (default: all)")


def add_no_progress(parser):
    """Add `--no-progress`: no progress bar and no progress lines."""
    parser.add_argument("--no-progress", action="store_true", help="show no progress")
