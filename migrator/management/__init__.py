"""Operator commands for the CRM sync: import, reconcile and check (see docs/commands.md)."""
