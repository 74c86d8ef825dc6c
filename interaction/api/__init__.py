"""The REST API of interactions: `/api/v1/interactions/`."""
