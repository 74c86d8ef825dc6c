"""Organisations (the CRM entity Account)."""
