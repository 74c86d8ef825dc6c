"""The reference lists companies, contacts and interactions point at (sectors, countries, ...) and teams."""
