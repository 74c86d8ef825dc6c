"""Operations: what an operator sees and does about the sync.

`metrics` (scrape-time watermark ages; the counters are `migrator.instruments`), `readiness`
(the `/readyz` checks), `health` (`cdms_check`), `comparison` (`cdms_reconcile`, and "Compare
with the CRM"), `conflicts` (rows newer locally than in the CRM, and how a person resolves one),
`sync_page` (the admin's CRM sync page), `failures` (the CRM's failures as 502/503/504 answers),
`request_log` and `observers` (a log line and metrics per CRM request).

May import: the shared top-level modules and the other three parts. Nothing imports `ops`
except Django's and Celery's entry points (`apps`, `admin`, `management`).
"""
