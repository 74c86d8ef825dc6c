"""The REST API of contacts: `/api/v1/contacts/`."""
