"""`manage.py cdms_import`, `cdms_reconcile` and `cdms_check`."""
