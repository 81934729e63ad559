"""Admin "Import data" page under AppTest: upload, check, import, and the dashboards afterwards.

Uploads go through AppTest's own st.file_uploader support (`at.file_uploader(key=...).set_value(...)`,
Streamlit >= 1.5x). The session-scoped demo warehouse is shared with other tests and is never written:
every test that may write imports into its own copy in tmp_path.
"""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa
from apptest_support import ROOT, run_page, sign_in, users_path
from markdown_support import ESCAPED, HOSTILE, live_markup, markdown_texts
from streamlit.testing.v1 import AppTest

from spm_core.db import make_engine, read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.metrics import query
from spm_core.schema import opportunity, person
from spm_core.users import DEMO_PASSWORDS, UserStore
from ui.auth import SESSION_KEY
from ui.format import money
from ui.text import md

FIXTURES = ROOT / "tests" / "fixtures" / "import"


def read(url: str, stmt: sa.Executable):
    """Read the warehouse with a short-lived read-only engine (disposed, so the app can write afterwards)."""
    engine = make_engine(url, read_only=True)
    try:
        return read_frame(engine, stmt)
    finally:
        engine.dispose()


def opportunities(url: str) -> int:
    return int(read(url, sa.select(sa.func.count()).select_from(opportunity)).iloc[0, 0])


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.file_uploader(key="import_upload").set_value([(name, data, "text/csv") for name, data in files]).run()
    return at


def fixture(name: str) -> tuple[str, bytes]:
    return name, (FIXTURES / name).read_bytes()


def check(at: AppTest) -> AppTest:
    at.button(key="import_check").click().run()
    assert not at.exception
    return at


def changes(at: AppTest) -> dict[str, tuple[int, int]]:
    """The last "Table / New rows / Updated rows" table on the page."""
    table = next(d.value for d in reversed(at.dataframe) if "Updated rows" in d.value.columns)
    return {row["Table"]: (row["New rows"], row["Updated rows"]) for _, row in table.iterrows()}


def test_only_admins_get_the_import_page(monkeypatch, demo_url):
    rep = run_page(monkeypatch, demo_url, user="rep")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        rep.switch_page("pages/admin_import.py")
    admin = run_page(monkeypatch, demo_url, "admin_import", user="admin")
    assert not admin.exception and admin.title[0].value == "Import data"


def test_a_salesforce_export_checks_imports_and_reimports_as_updates(monkeypatch, copy_url):
    before = opportunities(copy_url)
    at = upload(run_page(monkeypatch, copy_url, "admin_import", user="admin"), fixture("salesforce_opportunities.csv"))
    assert not at.exception and not at.error
    assert at.selectbox(key="import_kind").value == "salesforce_opportunities"  # detected from the header
    stages = at.data_editor[0].value
    assert dict(zip(stages["Stage in the file"], stages["App stage"], strict=True))["Negotiation/Review"] == "Negotiation"
    assert at.button(key="import_apply").disabled  # nothing checked yet

    check(at)
    assert changes(at)["Opportunities"] == (4, 0)
    assert any("Jane Doe" in m.value for m in at.markdown)  # new people are listed
    assert opportunities(copy_url) == before  # checking writes nothing

    at.button(key="import_apply").click().run()
    assert not at.exception and not at.error
    assert any("dashboards now show the imported data" in s.value for s in at.success)
    assert opportunities(copy_url) == before + 4

    check(at)  # the same file again: the same four opportunities, updated in place
    assert changes(at)["Opportunities"] == (0, 4)
    at.button(key="import_apply").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert opportunities(copy_url) == before + 4


def test_bad_rows_are_listed_and_block_the_import(monkeypatch, copy_url):
    before = opportunities(copy_url)
    at = check(upload(run_page(monkeypatch, copy_url, "admin_import", user="admin"), fixture("salesforce_bad_rows.csv")))
    assert any("cannot be imported" in e.value for e in at.error)
    errors = next(d.value for d in at.dataframe if "why" in d.value.columns)
    assert list(errors.columns) == ["file", "row", "column", "value", "why"]
    assert {(3, "Close Date"), (4, "Amount"), (5, "Amount")} <= set(zip(errors["row"], errors["column"], strict=True))
    assert at.get("download_button")  # the errors as CSV
    assert at.button(key="import_apply").disabled
    assert opportunities(copy_url) == before


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("export.csv", b"PK\x03\x04 a workbook saved with the wrong name", "Excel workbook"),
        ("report.csv", b"%PDF-1.7 a report", "PDF"),
        ("empty.csv", b"", "empty"),
    ],
)
def test_a_file_that_is_not_a_csv_gets_a_clear_message(monkeypatch, demo_url, name, data, message):
    at = upload(run_page(monkeypatch, demo_url, "admin_import", user="admin"), (name, data))
    assert not at.exception
    assert [e.value for e in at.error] and message in at.error[0].value
    assert not at.button  # no format, no check, no import: nothing else happens


def test_the_overview_shows_the_imported_deals(monkeypatch, copy_url):
    """After an import the read-only engine is reopened under a new version, so cached numbers recompute."""
    rep = read(copy_url, sa.select(person.c.name).where(person.c.role == "rep").order_by(person.c.id).limit(1)).iloc[0, 0]
    export = (
        '"Opportunity Owner","Account Name","Opportunity Name","Opportunity ID","Stage","Amount","Close Date","Created Date"\n'
        f'"{rep}","Imported Corp","Big imported win","006IMPORT1","Closed Won","9,000,000","11/20/2026","11/2/2026"\n'
    ).encode()
    at = run_page(monkeypatch, copy_url, user="admin")
    bookings_before = next(m.value for m in at.metric if m.label == "Bookings")

    at.switch_page("pages/admin_import.py").run()
    check(upload(at, ("big_win.csv", export)))
    at.button(key="import_apply").click().run()
    assert not at.exception and not at.error

    at.switch_page("pages/overview.py").run()
    assert not at.exception
    engine = make_engine(copy_url, read_only=True)
    try:
        as_of = at.session_state["page_context"].wh.as_of
        expected = query(engine, ["bookings"], Filters(Period.quarter(as_of)), Scope.everyone(), as_of=as_of).iloc[0, 0]
    finally:
        engine.dispose()
    bookings_after = next(m.value for m in at.metric if m.label == "Bookings")
    assert bookings_after == money(expected) != bookings_before


def test_another_crms_export_is_imported_through_the_column_mapping(monkeypatch, copy_url):
    at = upload(run_page(monkeypatch, copy_url, "admin_import", user="admin"), fixture("generic.csv"))
    assert not at.exception and at.selectbox(key="import_kind").value == "generic"  # not recognised: map it
    mapping = at.data_editor(key="import_columns").value
    suggested = dict(zip(mapping["App column"], mapping["File column"], strict=True))
    assert suggested["owner"] == "Rep" and suggested["amount"] == "Value" and pd.isna(suggested["source_id"])
    assert not at.button  # nothing to check until the mapping is confirmed

    rows = list(mapping["App column"])
    edits = {"source_id": "Deal Ref", "stage": "Status", "created_date": "Opened", "close_date": "Expected Close"}
    at.session_state["import_columns"] = {
        "edited_rows": {rows.index(column): {"File column": source} for column, source in edits.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.checkbox(key="import_columns_ok").check().run()
    stages = at.data_editor(key="import_stages").value
    assert dict(zip(stages["Stage in the file"], stages["App stage"], strict=True)) == {
        "Proposal": "Proposal",
        "Closed Won": "Closed Won",
    }
    check(at)
    assert not at.error and changes(at)["Opportunities"] == (2, 0)


def test_a_failed_write_says_so_and_keeps_the_previous_data(monkeypatch, copy_url):
    before = opportunities(copy_url)
    at = check(upload(run_page(monkeypatch, copy_url, "admin_import", user="admin"), fixture("salesforce_opportunities.csv")))
    blocker = make_engine(copy_url, read_only=True)  # another reader keeps the file open: DuckDB refuses a writer
    try:
        with blocker.connect():
            at.button(key="import_apply").click().run()
    finally:
        blocker.dispose()
    assert not at.exception
    assert any("refused the import" in e.value and "previous data" in e.value for e in at.error)
    assert opportunities(copy_url) == before

    at.button(key="import_apply").click().run()  # the plan still stands: importing again works
    assert not at.exception and not at.error
    assert opportunities(copy_url) == before + 4


def test_importing_real_data_retires_the_demo_passwords_and_says_so_first(monkeypatch, copy_url):
    at = run_page(monkeypatch, copy_url, "admin_import", user="admin")
    warning = next(w.value for w in at.warning if "public demo password" in w.value)
    assert "admin, leader, manager, rep, teamlead" in warning and "including yours" in warning
    upload(at, fixture("salesforce_opportunities.csv"))
    check(at)
    at.button(key="import_apply").click().run()
    assert not at.exception

    back = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    back.session_state[SESSION_KEY] = ("admin", UserStore(users_path(copy_url)).entry("admin")["session_version"])
    back.run()  # the admin's next click: the session ends with the reason
    assert not back.metric and "users reset-password admin" in back.error[0].value
    assert "Demo sign-ins" not in [e.label for e in back.expander]
    sign_in(back, "admin", DEMO_PASSWORDS["admin"])
    assert not back.metric and "users reset-password admin" in back.error[0].value


def plain(markdown: str) -> str:
    """Markdown of escaped outside text as it reads on the page."""
    return ESCAPED.sub(lambda m: m.group(0)[1], markdown)


def test_a_pipeline_report_without_ids_imports_with_the_suggested_key_and_a_stage_choice(monkeypatch, copy_url):
    """The stage-snapshot report: trailing comma, junk row, 07-Apr-2015 dates, no id column, a stage of its own."""
    before = opportunities(copy_url)
    at = upload(run_page(monkeypatch, copy_url, "admin_import", user="admin"), fixture("pipeline_snapshot_report.csv"))
    assert not at.exception and at.selectbox(key="import_kind").value == "generic"
    assert at.multiselect(key="import_id_columns").value == ["Customer", "Deal Owner"]
    at.checkbox(key="import_columns_ok").check().run()
    warnings = [plain(w.value) for w in at.warning]
    assert any("column(s) 12 have no name" in w for w in warnings)
    assert any("left out 1 row(s) with a single value (row(s) 48)" in w for w in warnings)
    assert any("Choose an app stage for Identified" in w for w in warnings)

    check(at)
    assert any("13 rows (13 errors) cannot be imported" in e.value for e in at.error)
    problems = next(d.value for d in at.dataframe if "How to fix" in d.value.columns)
    assert problems[["Column", "Rows", "How to fix"]].values.tolist() == [["stage", 13, "Choose its app stage in Stages above."]]

    stages = at.data_editor(key="import_stages").value
    row = list(stages["Stage in the file"]).index("Identified")
    at.session_state["import_stages"] = {"edited_rows": {row: {"App stage": "Prospecting"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    check(at)
    assert not at.error and changes(at)["Opportunities"] == (60, 0)
    assert any("a hash of Customer + Deal Owner" in plain(c.value) for c in at.caption)
    at.button(key="import_apply").click().run()
    assert not at.exception and not at.error
    assert opportunities(copy_url) == before + 60


def test_undecidable_dates_point_at_the_date_picker_and_pipedrive_reports_undated_deals(monkeypatch, copy_url):
    export = b"Deal ID,Owner,Stage,Amount,Close Date\n1,Kim Park,Proposal,10,4/7/2015\n2,Kim Park,Proposal,20,5/6/2015\n"
    at = upload(run_page(monkeypatch, copy_url, "admin_import", user="admin"), ("dates.csv", export))
    at.checkbox(key="import_columns_ok").check().run()
    check(at)
    problems = next(d.value for d in at.dataframe if "How to fix" in d.value.columns)
    assert problems["How to fix"].tolist() == ["Choose the date format above."]
    at.selectbox(key="import_date_format").set_value("dmy").run()
    check(at)
    assert not at.error and changes(at)["Opportunities"] == (2, 0)

    at = upload(run_page(monkeypatch, copy_url, "admin_import", user="admin"), fixture("pipedrive_deals.csv"))
    mapping = at.data_editor(key="import_columns").value
    suggested = dict(zip(mapping["App column"], mapping["File column"], strict=True))
    assert suggested["close_date"] == "Deal - Won time|Deal - Lost time|Deal - Expected close date"
    assert suggested["status"] == "Deal - Status"
    at.checkbox(key="import_columns_ok").check().run()
    check(at)
    assert not at.error
    assert any("3 open deals have no close date ($35,700)" in plain(i.value) for i in at.info)


def test_warnings_new_regions_and_undated_deals_show_file_text_as_text(monkeypatch, demo_url):
    """Region names, file names and amounts from the upload reach the page escaped, never as Markdown."""
    export = f"Deal ID,Owner,Stage,Amount,Account,Region,\n1,Kim Park,Proposal,10,A,{HOSTILE},x\n2,Kim Park,Proposal,20,B,EMEA,\n"
    at = upload(run_page(monkeypatch, demo_url, "admin_import", user="admin"), ("deals $1 $2.csv", export.encode()))
    at.checkbox(key="import_columns_ok").check().run()
    check(at)
    texts = markdown_texts(at)
    assert not [live for t in texts if (live := live_markup(t))]
    assert any("1 new region" in t and md(HOSTILE) in t for t in at.markdown.values)  # EMEA is in the demo
    assert any("column(s) 7 have no name" in plain(w.value) for w in at.warning)
    assert any("2 open deals have no close date ($30)" in plain(i.value) for i in at.info)
