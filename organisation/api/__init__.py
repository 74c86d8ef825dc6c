"""The REST API of organisations: `/api/v1/organisations/`."""
