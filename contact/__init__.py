"""Contacts (the CRM entity Contact)."""
