"""The REST API of the reference lists: `/api/v1/metadata/<list>/`, read-only."""
