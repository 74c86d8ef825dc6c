"""Django-free client for the legacy CRM 2011 OData endpoint."""
