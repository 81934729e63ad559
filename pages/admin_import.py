"""Admin: import CRM exports (CSV): upload, map columns and stages, check, then import.

The importing is spm_core.importing, the same steps as `python -m spm_core import`: this page reads the
inputs, shows the plan and the report, and writes through ui.warehouse.writable() because the app's own
engine is read-only. Nothing is written by uploading or checking; an import writes all rows or none.
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace

import duckdb
import pandas as pd
import sqlalchemy as sa
import streamlit as st

from spm_core.db import WarehouseError, read_frame
from spm_core.importing import (
    KINDS,
    STAGE_MAPPINGS,
    ImportPlan,
    ImportRejected,
    ImportReport,
    RowError,
    apply_import,
    detect_kind,
    parse,
    plan_import,
    read_upload,
    suggest_mapping,
)
from spm_core.importing.dates import DAY_FIRST, MONTH_FIRST
from spm_core.importing.formats import GENERIC_COLUMNS, GENERIC_HELP, GENERIC_REQUIRED, suggest_id_columns
from spm_core.importing.model import Parsed, RawCsv
from spm_core.importing.summary import error_count, group_errors, new_groups, undated_note
from spm_core.schema import stage
from spm_core.stages import DEFAULT_STAGES
from spm_core.users import UserStore
from ui import warehouse
from ui.context import context, set_context
from ui.downloads import csv_download
from ui.text import md

LABELS = {
    "maven": "Maven CRM (its four files: accounts, products, sales_teams, sales_pipeline)",
    "salesforce_opportunities": "Salesforce: opportunities report",
    "salesforce_history": "Salesforce: opportunity (stage) history",
    "hubspot_deals": "HubSpot: deals export",
    "generic": "Another CRM: map the columns yourself",
    "quotas": "Quotas (rep, month, quota)",
    "people": "People (reps and managers)",
}
TABLES = {
    "region": "Regions",
    "segment": "Segments",
    "team": "Teams",
    "person": "People",
    "account": "Accounts",
    "product": "Products",
    "opportunity": "Opportunities",
    "opportunity_history": "Stage history",
    "quota": "Quotas",
}
SHOWN_ERRORS = 5_000  # rows in the on-screen error table; the download has all of them
# Widgets and results that belong to one upload: forgotten when other files are uploaded.
PER_UPLOAD = (
    "import_kind",
    "import_columns",
    "import_columns_ok",
    "import_id_columns",
    "import_stages",
    "import_plan",
    "import_report",
)
DATE_FORMATS = {
    "": "Read from each column (31/3 or 3/31 decides)",
    DAY_FIRST: "Day first: 31/3/2024",
    MONTH_FIRST: "Month first: 3/31/2024",
    "pattern": "Another pattern…",
}
# The command line's fix for an error, as this page's control that does the same.
PAGE_FIXES = {
    "--stage": "Choose its app stage in Stages above.",
    "--date-format": "Choose the date format above.",
    "--map": "Change the column mapping above.",
    "--id-columns": "Add a column to “Key deals by” above.",
}
PROBABILITY_RULE = (
    "A deal's own probability and forecast category (when the file has them) win over its stage's, as Salesforce "
    "keeps a rep's override; weighted pipeline still uses the stage table's probability (SPEC)."
)

state = st.session_state
ctx = context()
if ctx.user is None or ctx.user.role != "admin":  # navigation hides this page; this guards a direct link
    st.error("Only admins import data.")
    st.stop()


def errors_table(errors: list[RowError], key: str) -> None:
    """Every row error as a sortable table, and all of them as a CSV download."""
    frame = pd.DataFrame([e.__dict__ for e in errors], columns=["file", "row", "column", "value", "why"])
    if len(frame) > SHOWN_ERRORS:
        st.caption(f"The first {SHOWN_ERRORS:,} of {len(frame):,} errors; the download has all of them.")
    st.dataframe(
        frame.head(SHOWN_ERRORS),
        hide_index=True,
        width="stretch",
        column_config={
            "file": st.column_config.TextColumn("File", width="small"),
            "row": st.column_config.NumberColumn("Row", width="small", help="The row as a spreadsheet shows it (header = 1)."),
            "column": st.column_config.TextColumn("Column", width="small"),
            "value": st.column_config.TextColumn("Value", width="small"),
            "why": st.column_config.TextColumn("Why", width="large"),
        },
    )
    csv_download(f"Download the {len(frame):,} error(s) (CSV)", frame, "import_errors.csv", key)


def changes_table(inserts: Mapping[str, int], updates: Mapping[str, int]) -> pd.DataFrame:
    rows = [
        {"Table": label, "New rows": inserts.get(table, 0), "Updated rows": updates.get(table, 0)}
        for table, label in TABLES.items()
        if inserts.get(table) or updates.get(table)
    ]
    return pd.DataFrame(rows, columns=["Table", "New rows", "Updated rows"])


def matches_and_new(people: Sequence[str], matches: Mapping[str, str], products: Sequence[str]) -> None:
    """The names an import creates or matches: names from the files, so escaped for Markdown."""
    if people:
        st.markdown(f"**{len(people):,} new people** (created as reps): {', '.join(map(md, people))}")
    if matches:
        shown = ", ".join(f"{md(source)} → {md(matched)}" for source, matched in matches.items())
        st.markdown(f"**Products matched by name**: {shown}")
    if products:
        st.markdown(f"**{len(products):,} new products**: {', '.join(map(md, products))}")


def page_fix(fix: str) -> str:
    return PAGE_FIXES.get(fix.split(" ", 1)[0], fix)


def problems_table(errors: list[RowError]) -> None:
    """The errors grouped by cause: one line for the 355 rows of one unmapped stage, with how to fix it."""
    groups = group_errors(errors)
    st.dataframe(
        pd.DataFrame(
            {
                "Column": [g.column for g in groups],
                "Problem": [g.why for g in groups],
                "Rows": [len(g.rows) for g in groups],
                "First rows": [", ".join(map(str, g.rows[:10])) + (", …" if len(g.rows) > 10 else "") for g in groups],
                "How to fix": [page_fix(g.fix) for g in groups],
            }
        ),
        hide_index=True,
        width="stretch",
        key="import_problems",
    )


def show_plan(plan: ImportPlan) -> None:
    if plan.errors:
        st.error(
            f"{error_count(plan.errors)} cannot be imported, so nothing can be imported yet. "
            "Fix them in the file (or in the mappings above) and check again."
        )
        problems_table(plan.errors)
        with st.expander(f"Every error ({len(plan.errors):,})"):
            errors_table(plan.errors, "import_plan_errors_csv")
        return
    changes = changes_table(plan.inserts, plan.updates)
    if changes.empty:
        st.info("Checked: importing these files would change nothing.")
        return
    st.success("Checked: every row can be imported. This is what Import will write (nothing is written yet).")
    st.dataframe(changes, hide_index=True)
    if plan.parsed.derived_ids:
        st.caption(f"Deal ids: {md(plan.parsed.derived_ids)}; importing the file again updates these deals in place.")
    matches_and_new(plan.people_to_create, plan.product_matches, plan.products_to_create)
    notes(plan.groups_to_create, plan.undated)


def notes(groups: Mapping[str, Sequence[str]], undated: tuple[int, float]) -> None:
    """New regions and segments, and the open deals that belong to no period (SPEC: said, never dropped)."""
    for line in new_groups(groups):  # names from the files
        st.markdown(md(line))
    if note := undated_note(undated):
        st.info(md(note), icon=":material/event_busy:")


def show_report(report: ImportReport) -> None:
    changes = changes_table(report.inserted, report.updated)
    st.success(
        f"Imported in {report.seconds:.1f} s. The dashboards now show the imported data.",
        icon=":material/check_circle:",
    )
    if not changes.empty:
        st.dataframe(changes, hide_index=True)
    matches_and_new(report.people_created, report.product_matches, report.products_created)
    notes(report.groups_created, report.undated)
    st.page_link("pages/overview.py", label="Open the Overview", icon=":material/dashboard:")


def read_files(files: Mapping[str, bytes]) -> dict[str, RawCsv] | ImportRejected:
    try:
        return {name: read_upload(name, data) for name, data in files.items()}
    except ImportRejected as exc:
        return exc


def guess_kind(raws: Mapping[str, RawCsv]) -> str | None:
    """The format of a single file's header; of several files, Maven's if one of them is its pipeline."""
    kinds = [detect_kind(list(raw.frame.columns)) for raw in raws.values()]
    if len(kinds) == 1:
        return kinds[0]
    return "maven" if "maven" in kinds else None


def app_stages() -> list[str]:
    """The warehouse's stages in pipeline order (the defaults for a warehouse that has none yet)."""
    names = read_frame(ctx.wh.engine, sa.select(stage.c.name).order_by(stage.c.position))["name"].tolist()
    return names or [s.name for s in DEFAULT_STAGES]


def source_stages(parsed: Parsed) -> pd.Series:
    """Rows per stage name found in the files, most rows first."""
    frames = [f["stage"] for f in (parsed.opportunities, parsed.history) if f is not None]
    return pd.concat(frames).dropna().value_counts() if frames else pd.Series(dtype="int64")


def chosen(cell: object) -> bool:
    """A select cell of st.data_editor that has a value (an empty one comes back as None or NaN)."""
    return isinstance(cell, str) and cell != ""


def column_mapping_editor(raw: RawCsv) -> dict[str, str]:
    """{app column: file column} for the generic format, pre-filled with suggest_mapping's guess."""
    header = list(raw.frame.columns)
    suggested = suggest_mapping(header)
    columns = list(GENERIC_COLUMNS)
    table = pd.DataFrame(
        {
            "App column": columns,
            "Required": [c in GENERIC_REQUIRED for c in columns],
            "File column": pd.Series([suggested.get(c) for c in columns], dtype="object"),
            "Meaning": [GENERIC_HELP[c] for c in columns],
        }
    )
    st.subheader("Columns")
    st.caption(
        "Which column of the file holds each of the app's columns; leave optional ones empty if the file has none. "
        "“A|B” reads B where A is empty. Without a close date every period view stays empty. " + PROBABILITY_RULE
    )
    combined = [v for v in suggested.values() if v not in header]
    edited = st.data_editor(
        table,
        key="import_columns",
        hide_index=True,
        disabled=["App column", "Required", "Meaning"],
        column_config={"File column": st.column_config.SelectboxColumn("File column", options=header + combined)},
    )
    return {app: str(source) for app, source in zip(edited["App column"], edited["File column"], strict=True) if chosen(source)}


def id_columns_picker(raw: RawCsv, columns: Mapping[str, str]) -> list[str]:
    """Columns whose values key each deal when no column holds an id (a hash, so re-imports update in place)."""
    if "source_id" in columns:
        return []
    return st.multiselect(
        "Key deals by (the file has no id column)",
        list(raw.frame.columns),
        default=suggest_id_columns(columns),
        key="import_id_columns",
        help="Each deal's id is a hash of these columns, so importing the file again updates the same deals. "
        "Choose columns that do not change and that tell deals apart; the check lists rows that share them.",
    )


def date_format_picker() -> str | None:
    """None (read each column as it shows), dmy, mdy or a strptime pattern."""
    choice = st.selectbox(
        "Dates",
        list(DATE_FORMATS),
        format_func=DATE_FORMATS.__getitem__,
        key="import_date_format",
        help="Dates are read from each column: 07-Apr-2015, 2015-04-07, 4/7/2015, 07.04.2015, with times, or Excel "
        "day numbers. Only when no value shows whether the day or the month comes first (4/7/2015 but never "
        "31/3/2015) say which here.",
    )
    if choice == "pattern":
        pattern = st.text_input("Date pattern", placeholder="%d-%b-%Y", key="import_date_pattern")
        return pattern or None
    return choice or None


def stage_mapping_editor(kind: str, parsed: Parsed) -> dict[str, str]:
    """{stage in the file: app stage}, pre-filled from the format's usual mapping."""
    counts = source_stages(parsed)
    if counts.empty:
        return {}
    targets = app_stages()
    by_folded = {name.casefold(): name for name in targets}
    defaults = {**STAGE_MAPPINGS.get(kind, {}), **parsed.default_stage_mapping}
    sources = [str(s) for s in counts.index]
    if state.get("import_stage_rows") != sources:  # other stages than the editor's rows: start from the defaults
        state.pop("import_stages", None)
        state["import_stage_rows"] = sources
    table = pd.DataFrame(
        {
            "Stage in the file": sources,
            "Rows": counts.to_numpy(),
            "App stage": pd.Series([by_folded.get(str(defaults.get(s, s)).casefold()) for s in sources], dtype="object"),
        }
    )
    st.subheader("Stages")
    st.caption(
        "Each stage of the file becomes one of the app's stages (its probability, forecast category, won or lost). "
        + PROBABILITY_RULE
    )
    edited = st.data_editor(
        table,
        key="import_stages",
        hide_index=True,
        disabled=["Stage in the file", "Rows"],
        column_config={"App stage": st.column_config.SelectboxColumn("App stage", options=targets, required=True)},
    )
    mapping = {s: str(a) for s, a in zip(edited["Stage in the file"], edited["App stage"], strict=True) if chosen(a)}
    unmapped = [s for s in sources if s not in mapping]
    if unmapped:
        st.warning(f"Choose an app stage for {', '.join(map(md, unmapped))}: rows in an unmapped stage cannot be imported.")
    return mapping


st.title("Import data")
st.caption(
    "Upload CSV exports from your CRM. Checking shows what would change and every row that cannot be imported; "
    "nothing is written until you press Import, which writes all rows or none. Importing the same rows again "
    "updates them instead of adding copies."
)
demo_accounts = UserStore(warehouse=ctx.wh.url).demo_accounts() if ctx.wh.info.get("source") == "demo" else []
if demo_accounts:
    yours = " including yours," if ctx.user is not None and ctx.user.username in demo_accounts else ""
    st.warning(
        "This warehouse holds the demo data. After an import it holds real data, so the accounts that still have "
        f"their public demo password ({', '.join(demo_accounts)}){yours} stop working: give them their own "
        "passwords on the Users page first (or remove them)."
    )

uploads = st.file_uploader(
    "CSV export(s)",
    type="csv",
    accept_multiple_files=True,
    key="import_upload",
    help="One export per import; Maven CRM needs its four files together.",
)
if not uploads:
    state.pop("import_files", None)
    if "import_report" in state:
        show_report(state["import_report"])
    st.info("Upload an export in one of these formats:\n" + "\n".join(f"- {label}" for label in LABELS.values()))
    st.stop()

signature = tuple((f.name, f.file_id, f.size) for f in uploads)
if state.get("import_files", (None,))[0] != signature:  # new files: read them once, forget what was set for others
    for key in PER_UPLOAD:
        state.pop(key, None)
    raws = read_files({f.name: f.getvalue() for f in uploads})
    state["import_files"] = (signature, raws)
    if not isinstance(raws, ImportRejected):
        state["import_kind"] = guess_kind(raws) or "generic"
raws = state["import_files"][1]
if isinstance(raws, ImportRejected):
    st.error(md(raws))  # rejection messages quote file names and header cells
    st.stop()

if "import_report" in state:
    show_report(state["import_report"])

left, right = st.columns([3, 2], vertical_alignment="bottom")
kind = left.selectbox("Format", KINDS, format_func=LABELS.__getitem__, key="import_kind")
with right:
    date_format = date_format_picker()
detected = guess_kind(raws)
if detected and detected != kind:
    st.caption(f"The file looks like {LABELS[detected]}.")

columns = None
id_columns: list[str] = []
if kind == "generic":
    if len(raws) != 1:
        st.error(f"This format takes exactly one file; {len(raws)} are uploaded.")
        st.stop()
    raw = next(iter(raws.values()))
    columns = column_mapping_editor(raw)
    id_columns = id_columns_picker(raw, columns)
    if not st.checkbox("The column mapping is right", key="import_columns_ok"):
        st.info("Check the column mapping above, then tick the box to go on.")
        st.stop()

try:
    parsed = parse(kind, raws, columns, date_format=date_format, id_columns=id_columns)
except ImportRejected as exc:
    st.error(md(exc))
    if exc.errors:
        errors_table(exc.errors, "import_parse_errors_csv")
    st.stop()
for raw in raws.values():
    if raw.dropped_footer:
        st.caption(f"{md(raw.name)}: left out {len(raw.dropped_footer)} report footer line(s) after the data.")
    if raw.blank_rows:
        st.caption(f"{md(raw.name)}: left out {raw.blank_rows:,} blank row(s).")
for warning in parsed.warnings:  # they quote file names and header cells
    st.warning(md(warning))
stages = stage_mapping_editor(kind, parsed)

# A plan is shown (and imported) only while the inputs it was made from are unchanged.
inputs = (
    signature,
    kind,
    tuple(sorted((columns or {}).items())),
    tuple(id_columns),
    tuple(sorted(stages.items())),
    date_format,
)
if st.button("Check", key="import_check", icon=":material/fact_check:", on_click=lambda: state.pop("import_report", None)):
    with st.spinner("Checking every row against the warehouse…"):
        try:
            state["import_plan"] = (inputs, plan_import(ctx.wh.engine, parsed, stages))
        except ImportRejected as exc:
            st.error(md(exc))
            st.stop()
checked = state.get("import_plan")
plan = checked[1] if checked and checked[0] == inputs else None
if plan is not None:
    show_plan(plan)

ready = plan is not None and plan.ok
if st.button(
    "Import",
    key="import_apply",
    type="primary",
    icon=":material/upload:",
    disabled=not ready,
    help=None if ready else "Check the files first; Import is possible when no row has an error.",
):
    bar = st.progress(0.0, text="Starting the import…")
    report = None
    try:
        with warehouse.writable() as engine:
            report = apply_import(engine, plan, progress=lambda fraction, message: bar.progress(fraction, text=message))
    except ImportRejected as exc:
        bar.empty()
        st.error(f"Nothing was imported: {md(exc)}. The warehouse still holds the previous data.")
        errors_table(exc.errors, "import_apply_errors_csv")
    except (WarehouseError, sa.exc.SQLAlchemyError, duckdb.Error) as exc:
        bar.empty()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        st.error(
            f"The warehouse refused the import ({md(reason)}). Nothing was written: it still holds the previous data. "
            "If another import or a command-line load is running, try again when it has finished."
        )
    # writable() closed the read-only engine in this session's context: reopen it now (under the file's new
    # version) rather than only on the frame's next run, because AppTest reruns a page without the frame.
    set_context(replace(ctx, wh=warehouse.current()))
    if report is not None:
        state["import_report"] = report
        state.pop("import_plan", None)
        st.rerun()  # the frame redraws the filter bar and every page from the new warehouse
