"""Advisers: the people who record interactions (the CRM's system users)."""
