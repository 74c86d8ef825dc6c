"""The REST API of advisers: `/api/v1/advisers/`, read-only."""
