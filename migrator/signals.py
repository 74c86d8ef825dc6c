"""Signal handlers of the sync layer."""
