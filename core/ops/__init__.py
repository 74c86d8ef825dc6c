"""Operating the service: health and readiness probes, Prometheus metrics, request ids, JSON logs.

These outlive the CRM. Apps plug in without being imported from here: an app config may name
readiness checks (`readiness_checks`) and scrape-time metric collectors (`metrics_collectors`)
as dotted paths; `/readyz` and `/metrics` use whatever the installed apps name.
"""
