"""The sync layer that mirrors Django ORM reads and writes to the legacy CRM."""
