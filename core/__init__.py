"""Seams that outlive the legacy CRM: base model, manager and foreign key."""
