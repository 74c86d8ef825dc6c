"""Interactions: what an adviser did with a company and its contacts (the CRM's detica_interaction)."""
