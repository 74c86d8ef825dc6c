"""Tests of the Django-free CRM client (cdms_api)."""
