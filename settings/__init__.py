"""Settings modules: `base` (everything), `local` (development), `test` (the suite)."""
