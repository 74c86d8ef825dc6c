"""cdms_import: full and incremental copies, resume after an interruption, conflicts left alone."""

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from reversion.models import Version

from cdms_api.counting import count_requests
from contact.models import Contact
from migrator.mirror import entities, importer
from migrator.mirror.state import ImportCursor, Watermark
from organisation.models import Organisation
from tests.crm_records import later, seed_account


def local_keys(model):
    return set(model.objects.skip_cdms().values_list("cdms_pk", flat=True))


def crm_keys(crm, entity):
    rows = crm.store.select(f'SELECT "{entity}Id" FROM "{entity}"')
    return {row[0].lower() for row in rows}


@pytest.fixture
def demo(cdms):
    cdms.store.seed_demo(60)
    return cdms


def test_full_import_copies_parents_then_children(demo, run):
    out = run("cdms_import", "--full", "--workers", "3")
    assert local_keys(Organisation) == crm_keys(demo, "Account")
    assert local_keys(Contact) == crm_keys(demo, "Contact")
    record = demo.store.select('SELECT "ContactId", "ParentCustomerId" FROM "Contact" LIMIT 1')[0]
    contact = Contact.objects.skip_cdms().select_related("organisation").get(cdms_pk=record[0].lower())
    assert contact.organisation.cdms_pk == record[1].lower()
    assert {v.revision.comment for v in Version.objects.select_related("revision")} == {"CDMS import"}
    assert "Imported" in out and "Account" in out and "Contact" in out
    assert ImportCursor.objects.get(entity="Account").imported_until is not None


def test_a_first_import_is_full_and_says_so(demo):
    result = importer.EntityImport(Organisation, show_progress=False).run()
    assert result.mode == "full"
    assert local_keys(Organisation) == crm_keys(demo, "Account")
    again = importer.EntityImport(Organisation, show_progress=False).run()
    assert again.mode == "incremental"


def test_incremental_import_copies_only_recent_changes(demo, run):
    run("cdms_import", "--full")
    key = demo.store.select('SELECT "AccountId" FROM "Account" LIMIT 1')[0][0]
    demo.store.update("Account", key, {"Name": "Renamed in the CRM"}, modified_on=later())
    new = seed_account(demo, "Brand New", modified_on=later())
    job = importer.EntityImport(Organisation, lookback_minutes=10, show_progress=False)
    result = job.run()
    assert result.mode == "incremental"
    assert 2 <= result.rows < demo.store.count("Account") // 4  # the changes, plus the lookback's few
    assert Organisation.objects.skip_cdms().get(cdms_pk=key.lower()).name == "Renamed in the CRM"
    assert Organisation.objects.skip_cdms().filter(cdms_pk=new).exists()


def test_lookback_reads_changes_just_before_the_cursor(demo, run):
    run("cdms_import", "--full", "--entity", "Account")
    cursor = ImportCursor.objects.get(entity="Account")
    late = seed_account(demo, "Committed late", modified_on=cursor.imported_until - dt.timedelta(minutes=3))
    run("cdms_import", "--entity", "Account", "--lookback-minutes", "5")
    assert Organisation.objects.skip_cdms().filter(cdms_pk=late).exists()


def test_an_interrupted_import_resumes_with_the_windows_not_done(demo, run, monkeypatch):
    calls = []

    def interrupt_on_fourth_page(model, records, comment):
        calls.append(len(records))
        if len(calls) == 4:
            raise KeyboardInterrupt
        return importer_reconcile(model, records, comment=comment)

    importer_reconcile = importer.reconcile_page
    monkeypatch.setattr(importer, "reconcile_page", interrupt_on_fourth_page)
    monkeypatch.setattr(importer, "PAGES_PER_COMMIT", 1)
    with pytest.raises(CommandError, match="interrupted; run the command again to resume"):
        run("cdms_import", "--full", "--entity", "Account", "--workers", "2")
    cursor = ImportCursor.objects.get(entity="Account")
    assert cursor.run_in_progress and cursor.windows_done
    done = len(cursor.windows_done)
    monkeypatch.setattr(importer, "reconcile_page", importer_reconcile)
    result = importer.EntityImport(Organisation, workers=2, show_progress=False).run()
    assert (result.mode, result.windows_resumed) == ("resumed", done)
    assert result.rows < demo.store.count("Account")
    assert local_keys(Organisation) == crm_keys(demo, "Account")
    assert not ImportCursor.objects.get(entity="Account").run_in_progress


def test_a_crm_failure_stops_the_import_and_a_rerun_finishes_it(demo, run):
    demo.faults.add(kind="status", status=503, count=30, entity_set="ContactSet")
    with pytest.raises(CommandError, match="Contact: the CRM failed"):
        run("cdms_import", "--full")
    assert local_keys(Organisation) == crm_keys(demo, "Account")
    demo.faults.clear()
    run("cdms_import")
    assert local_keys(Contact) == crm_keys(demo, "Contact")


def test_a_local_row_newer_than_the_crm_is_left_alone_and_reported(cdms, run):
    keys = [seed_account(cdms, f"Org {i}") for i in range(3)]
    run("cdms_import", "--full", "--entity", "Account")
    local = Organisation.objects.skip_cdms().get(cdms_pk=keys[0])
    local.name, local.modified = "Local edit", later(3600)
    local.save(skip_cdms=True)
    cdms.store.update("Account", keys[1], {"Name": "CRM edit"}, modified_on=later())
    out = run("cdms_import", "--full", "--entity", "Account")
    assert "1 local rows are newer than the CRM" in out and keys[0] in out
    assert Organisation.objects.skip_cdms().get(cdms_pk=keys[0]).name == "Local edit"
    assert Organisation.objects.skip_cdms().get(cdms_pk=keys[1]).name == "CRM edit"


def test_unknown_entity_is_refused(cdms, run):
    with pytest.raises(CommandError, match="Unknown entity"):
        run("cdms_import", "--entity", "Lead")


def test_a_first_full_import_publishes_both_watermarks_so_lists_answer_from_the_mirror(demo, api, settings):
    """A fresh import lists every key: no 400 (nor a stale mark) while the first key sweep is to come."""
    settings.CDMS_MAX_STALENESS, settings.CDMS_SYNC_MAX_ROWS = 60, 10
    call_command("cdms_import", "--full", "--no-progress", stdout=io.StringIO())
    marks = {w.entity: w for w in Watermark.objects.all()}
    assert set(marks) == set(entities.entity_names())  # every entity, the lists and users too
    assert all(m.changes_until is not None and m.deletions_until is not None for m in marks.values())
    assert all(m.changes_until - m.deletions_until == dt.timedelta(seconds=5) for m in marks.values())  # overlap
    with count_requests() as counter:
        response = api.get("/api/v1/organisations/")
    assert response.status_code == 200 and response.json()["count"] == demo.store.count("Account")
    assert "X-CDMS-Stale" not in response and response["X-CDMS-Watermark"] != "strict"
    assert counter.count == 1  # the stamps of the page's 25 rows, all unchanged


def test_an_incremental_import_publishes_only_the_change_watermark(demo, run):
    run("cdms_import", "--full", "--entity", "Account")
    Watermark.objects.update(changes_until=None, deletions_until=None)
    run("cdms_import", "--entity", "Account")
    mark = Watermark.objects.get(entity="Account")
    assert mark.changes_until is not None and mark.deletions_until is None


def test_a_full_import_into_a_mirror_that_held_rows_leaves_the_delete_watermark_to_the_sweeps(demo, run):
    run("cdms_import", "--full", "--entity", "Account")
    Watermark.objects.update(changes_until=None, deletions_until=None)
    run("cdms_import", "--full", "--entity", "Account")  # a row deleted in the CRM meanwhile would stay
    mark = Watermark.objects.get(entity="Account")
    assert mark.changes_until is not None and mark.deletions_until is None


def test_off_a_terminal_the_import_writes_progress_lines_with_rows_rate_and_eta(demo):
    out = io.StringIO()  # not a terminal
    call_command("cdms_import", "--full", "--entity", "Account", "--progress-every", "0", stdout=out)
    lines = [line for line in out.getvalue().splitlines() if " Account: " in line]
    counts = [int(re.search(r"Account: (?:done, )?([\d,]+) rows", line)[1].replace(",", "")) for line in lines]
    assert len(lines) >= 3 and counts == sorted(counts)  # a line a page here, and a closing one
    assert all("rows/s" in line for line in lines)
    assert any(re.search(r"ETA \d+ s \(\d+/\d+ windows done\)", line) for line in lines)
    assert lines[-1].endswith("rows/s)") and counts[-1] == demo.store.count("Account")


def test_no_progress_means_no_progress_lines(demo):
    out = io.StringIO()
    call_command("cdms_import", "--full", "--no-progress", "--progress-every", "0", stdout=out)
    assert "ETA" not in out.getvalue() and "done," not in out.getvalue()


def test_progress_lines_come_at_most_once_an_interval():
    from migrator.mirror.progress import RowsLog

    now, written = [0.0], []
    log = RowsLog("Account", written.append, every=5.0, clock=lambda: now[0])
    for second in range(1, 21):  # 20 pages, one a second
        now[0] = float(second)
        log.update(50)
    log.finish()
    assert len(written) == 5  # at 5, 10, 15 and 20 s, then the closing line
    assert written[0] == "Account: 250 rows, 50 rows/s, ETA unknown"
    assert written[-1] == "Account: done, 1,000 rows in 20.0 s (50 rows/s)"


def test_bad_waits_are_refused(cdms):
    with pytest.raises(CommandError, match="--worker-wait must be positive"):
        call_command("cdms_import", "--worker-wait", "0", stdout=io.StringIO())
