"""The SPM dashboard: the router and picture frame.

Opens the warehouse (creating the embedded demo one on first start), signs the user in, decides
from the role which pages exist and what the user may see (their scope, enforced in spm_core on
every query), draws the filter bar every page shares, and runs the chosen page.
"""

import streamlit as st

from spm_core.db import WarehouseError
from spm_core.filters import Filters, Period
from spm_core.users import viewer_scope
from spm_core.warehouse import FIRST_START_OPPORTUNITIES
from ui import warehouse
from ui.auth import current_user, is_signed_in, sign_in, sign_out
from ui.context import PageContext, set_context
from ui.errors import error_boundary
from ui.filters import filter_bar, no_filter_bar
from ui.saved_views import saved_views
from ui.text import md

st.set_page_config(page_title="SPM dashboard", page_icon="📈", layout="wide")


def first_start_page() -> None:
    """Shown while the first start builds the demo warehouse. Registered with st.navigation at once:
    until st.navigation runs, Streamlit lists the files of pages/ (admin pages included) in the sidebar."""
    st.title("SPM dashboard")
    st.info(
        f"First start: building a demo warehouse of {FIRST_START_OPPORTUNITIES:,} deals (about 20 seconds). "
        "The sign-in form follows."
    )
    try:
        warehouse.current()
    except WarehouseError as exc:
        st.error(f"The warehouse cannot be opened. {exc}")
        return
    st.rerun()


if warehouse.first_start_pending():
    with error_boundary("the first start"):
        st.navigation([st.Page(first_start_page, title="Starting")], position="hidden").run()
    st.stop()

try:
    wh = warehouse.current()
except WarehouseError as exc:
    st.error(f"The warehouse cannot be opened. {exc}")
    st.stop()

DASHBOARDS = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/pipeline.py", title="Pipeline health", icon=":material/filter_alt:"),
    st.Page("pages/attainment.py", title="Quota attainment", icon=":material/target:"),
    st.Page("pages/leaderboard.py", title="Leaderboards", icon=":material/leaderboard:"),
    st.Page("pages/forecast.py", title="Forecast", icon=":material/trending_up:"),
    st.Page("pages/reports.py", title="Period review", icon=":material/summarize:"),
    st.Page("pages/pulse.py", title="Employee pulse", icon=":material/favorite:"),
]
PLANNING = [
    st.Page("pages/planning.py", title="Quota planning", icon=":material/edit_calendar:"),
    st.Page("pages/territories.py", title="Territories", icon=":material/map:"),
]
TV = st.Page("pages/tv.py", title="TV mode", icon=":material/tv:")
COACHING = [
    st.Page("pages/activities.py", title="Activities", icon=":material/call:"),
    st.Page("pages/scorecard.py", title="Rep scorecards", icon=":material/scoreboard:"),
    st.Page("pages/coaching.py", title="Coaching flags", icon=":material/flag:"),
    st.Page("pages/one_on_ones.py", title="1:1 notes", icon=":material/edit_note:"),
    st.Page("pages/contests.py", title="Contests", icon=":material/emoji_events:"),
    TV,
]
COMP_PLANS = st.Page("pages/comp_plans.py", title="Compensation plans", icon=":material/payments:")
ADMIN = [
    st.Page("pages/admin_users.py", title="Users", icon=":material/manage_accounts:"),
    st.Page("pages/admin_import.py", title="Import data", icon=":material/upload_file:"),
    st.Page("pages/admin_settings.py", title="Settings", icon=":material/settings:"),
    COMP_PLANS,
]
MY_COMMISSIONS = st.Page("pages/my_commissions.py", title="My commissions", icon=":material/receipt_long:")
COMP_TEAM = st.Page("pages/comp_team.py", title="Team commissions", icon=":material/groups:")
COMP_ADMIN = st.Page("pages/comp_admin.py", title="Compensation admin", icon=":material/account_balance:")
# Compensation by role: each page also checks the role itself (a direct link).
COMPENSATION = {
    "rep": [MY_COMMISSIONS],
    "manager": [MY_COMMISSIONS, COMP_TEAM],
    "leader": [COMP_TEAM],
    "comp_admin": [COMP_ADMIN, COMP_TEAM, COMP_PLANS],
    "admin": [COMP_ADMIN, COMP_TEAM],
}
ALL_PAGES = [*DASHBOARDS, *PLANNING, *COACHING, *ADMIN, MY_COMMISSIONS, COMP_TEAM, COMP_ADMIN]
LINKED_PAGE_KEY = "spm_linked_page"  # the URL path of the page a signed-out browser asked for
LINKED_NOTICE_KEY = "spm_linked_notice"  # (page shown, why): the notice of a link this role may not open
# Pages that read no ctx.filters (their own period picker, or nothing to filter): no filter bar there.
UNFILTERED = {"pulse", "planning", "territories", *(p.url_path for p in ADMIN), MY_COMMISSIONS.url_path, COMP_TEAM.url_path, COMP_ADMIN.url_path}


def login_page() -> None:
    """The only page until someone signs in. Registered with st.navigation before any widget is drawn
    (widget identities depend on the page), and so that Streamlit does not list pages/ on this screen."""
    if sign_in(wh) is not None:
        # Signed in. No st.rerun here: it would cut off the component that writes the sign-in cookie in
        # the browser; that component's reply reruns the app, which then draws the dashboards.
        st.caption("Signed in: opening your dashboards…")


def sign_in_pages() -> list[st.Page]:
    """The sign-in form, at the root and at every page's address. A link to a page (a shared link, a
    saved view) keeps its address and query string while the form shows, and as Streamlit knows a page
    by its URL path, the rerun after sign-in opens the page linked, if the role may open it."""
    paths = dict.fromkeys(p.url_path for p in ALL_PAGES if p.url_path)
    aliases = [st.Page(login_page, title="Sign in", url_path=path) for path in paths]
    return [st.Page(login_page, title="Sign in", default=True), *aliases]


def linked_page_notice(allowed: list[st.Page], role: str, page: st.Page) -> None:
    """After sign-in, a link to a page this role may not open lands on the default page, saying why (never
    an error). The notice stays while that page is shown (the cookie component's reply reruns the app just
    after sign-in) and goes once the user moves on."""
    linked = st.session_state.pop(LINKED_PAGE_KEY, "")
    if linked and linked not in {p.url_path for p in allowed}:
        title = next((p.title for p in ALL_PAGES if p.url_path == linked), "that page")
        note = f"The page linked, {title}, is not open to your role ({role}), so here is {page.title}."
        st.session_state[LINKED_NOTICE_KEY] = (page.url_path, note)
    shown = st.session_state.get(LINKED_NOTICE_KEY)
    if shown and shown[0] == page.url_path:
        st.info(shown[1])
    elif shown:
        del st.session_state[LINKED_NOTICE_KEY]


if not is_signed_in():
    with error_boundary("the sign-in page"):
        requested = st.navigation(sign_in_pages(), position="hidden")
        st.session_state[LINKED_PAGE_KEY] = requested.url_path
        requested.run()
    st.stop()
user = current_user(wh)  # checked on every run: ends a session revoked elsewhere (and reruns)
if user is None:  # the users file cannot be read: current_user said why
    st.navigation(sign_in_pages(), position="hidden")
    st.stop()
if user.role == "display":  # a screen on the sales floor: contest boards only, full screen, no sidebar
    set_context(
        PageContext(
            wh=wh, scope=viewer_scope(wh.engine, user), filters=Filters(Period.month(wh.as_of)), viewer_id=None, user=user
        )
    )
    st.navigation([TV], position="hidden").run()
    st.stop()

pages = {"Dashboards": DASHBOARDS, "Coaching": COACHING, "Planning": PLANNING}  # every role: within their scope
if user.role in COMPENSATION:
    pages["Compensation"] = COMPENSATION[user.role]
if user.role == "admin":
    pages["Admin"] = ADMIN
page = st.navigation(pages, expanded=True)  # every page listed: no "View more" hiding the sections
linked_page_notice([p for group in pages.values() for p in group], user.role, page)

with st.sidebar:
    st.caption(f"Signed in as **{md(user.name)}** ({user.role})")
    if st.button("Sign out", key="spm_logout", help="Signs this account out in every browser."):
        sign_out(wh, user)
    saved_views(wh, user, page, [p for group in pages.values() for p in group])

scope = viewer_scope(wh.engine, user)
with error_boundary("the filter bar"):
    filters = no_filter_bar(wh) if page.url_path in UNFILTERED else filter_bar(wh, scope)
    set_context(PageContext(wh=wh, scope=scope, filters=filters, viewer_id=user.person_id, user=user))
    with error_boundary(f"the {page.title} page"):
        page.run()
