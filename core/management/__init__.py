"""Management commands that outlive the legacy CRM."""
