"""Every business role opens every page of its menu in Chromium — the list, its search panel with each
filter added, the first row's detail page, the add form where granted, FAB's "nothing ticked" alert and
its confirm dialog — and reads no English word and no raw value; at 1280 and 1920 pixels the export
button never covers 记录数目."""
from __future__ import annotations

import os
import re
from urllib.parse import urlparse

import pytest

from tests.browser.pages import assert_clean, flashes, login

ROLES = ["city_admin", "county_admin", "base_admin", "reviewer", "finance", "merchant", "auditor", "office",
         "auditadmin"]

# FAB's English UI words, Python reprs and every raw enum value of models/ (StrEnum values)
UI_WORDS = ["None", "True", "False", "No row selected", "Cancel", "OK", "Forbidden", "Not Found", "Search",
            "Add Filter", "Record Count", "User confirmation needed", "Internal Server Error", "Traceback",
            "Starts with", "Ends with", "Contains", "Equal to", "Not Equal to", "Greater than", "Smaller than",
            "Relation", "Back", "Save", "Actions", "Page size", "Are you sure", "January", "Monday", "Sun", "Mon"]


def _raw_enum_values() -> set[str]:
    import enum
    import importlib
    import pkgutil

    import models

    values = set()
    for info in pkgutil.walk_packages(models.__path__, "models."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, enum.Enum) and obj.__module__ == module.__name__:
                values.update(str(e.value) for e in obj if len(str(e.value)) > 2)
    return values


def _column_names() -> set[str]:
    """Attribute names of every model (``phone``, ``merchants``, ``cert_status``…): a label that
    shows one is a column FAB could not name in Chinese."""
    from sqlalchemy import inspect as sa_inspect

    from models import Model

    names = set()
    for mapper in Model.registry.mappers:
        names.update(a.key for a in sa_inspect(mapper.class_).attrs if len(a.key) > 3 and a.key.isascii())
    return names - {"name", "code", "email", "logo"}  # data or accepted words ("Logo" is the label)


def denylist() -> re.Pattern:
    words = sorted({*UI_WORDS, *_raw_enum_values(), *_column_names()}, key=len, reverse=True)
    return re.compile(r"(?<![\w@./-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w@./-])")


DENY = denylist()


def usernames(ctx) -> set[str]:
    from sqlalchemy import select

    from models.security import User

    return set(ctx.scalars(select(User.username)))


def findings(text: str, names: set[str]) -> list[str]:
    """Denied words in ``text`` once account names (data, not UI) are taken out."""
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"(?<![\w@.-]){re.escape(name)}(?![\w@.-])", " ", text)
    return sorted(set(DENY.findall(text)))


def visible_text(page) -> str:
    """The page's visible text, less what is code for the expert (JSON keys in <code>, e.g. a plan's rules)."""
    text = page.locator("body").inner_text()
    for code in page.locator("code").all_inner_texts():
        text = text.replace(code, " ")
    return text


def menu_links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("ul.navbar-nav:not(.navbar-right) a[href]", "els => els.map(e => e.href)")
    host = urlparse(base).netloc
    seen = []
    for href in hrefs:
        url = urlparse(href)
        if url.netloc == host and url.path not in ("", "#") and "logout" not in url.path and href not in seen:
            seen.append(href)
    return seen


class Report:
    def __init__(self, names):
        self.names = names
        self.problems: list[str] = []

    def check(self, where: str, text: str) -> None:
        found = findings(text, self.names)
        if found:
            self.problems.append(f"{where}: {found}")


def open_search_panel(page, report: Report, where: str) -> None:
    """Open the list's 搜索 panel, its 添加过滤条件 menu, and add every filter it offers."""
    toggle = page.locator("a[href='#accordion1_href']")
    if not toggle.count():
        return
    toggle.first.click()
    page.locator("#accordion1_href.in").wait_for()
    menu_button = page.locator("#filter_form .dropdown-toggle")
    if not menu_button.count():
        return
    menu_button.first.click()
    report.check(f"{where} filter menu", page.locator("#filter_form").inner_text())
    page.keyboard.press("Escape")
    # every filter the menu offers, added at once: the menu entries' own click handlers (one menu click
    # each was two seconds of CI per list, and the menu itself is checked above)
    page.eval_on_selector_all("#filter_form a.filter", "els => els.forEach(e => e.click())")
    # what the added filters offer and show: operators, choices, and the values typed in for the user
    offered = page.eval_on_selector_all(
        "#filter_form table.filters select option, #filter_form table.filters input:not([type=hidden])",
        "els => els.map(e => e.tagName === 'OPTION' ? e.textContent : e.value).join('\\n')")
    report.check(f"{where} filters", page.locator("#filter_form").inner_text() + "\n" + offered)


SHOTS = os.environ.get("PLAIN_TEXT_SHOTS")  # a folder: one screenshot per page for a person to look at


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, re.sub(r"[^\w]+", "-", name).strip("-") + ".png"), full_page=True)


def boxes_overlap(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def check_export_clear_of_count(page, report: Report, where: str) -> None:
    """The 导出 Excel button never lies over 记录数目 (nor over the add button or the actions)."""
    export = page.locator("#export-link")
    if not export.count():
        return
    box = export.bounding_box()
    header = ".well-sm:has(.record-count)"
    others = page.locator(f"{header} .record-count, {header} > .btn-group, {header} > a, {header} > ul, "
                          f"{header} > div > .btn-group, {header} .list-count a.btn:not(#export-link)")
    for other in others.all():
        if other.is_visible() and boxes_overlap(box, other.bounding_box()):
            report.problems.append(f"{where} ({page.viewport_size['width']}px): 导出 Excel covers {other.inner_text()!r}")


def check_nothing_ticked_alert(page, report: Report, where: str) -> None:
    """An action chosen with no row ticked: FAB's alert says so in Chinese, its button too."""
    items = page.locator("a[class$='_menu_item']")
    if not items.count():
        return
    page.locator(".btn-group", has=items.first).locator(".dropdown-toggle").click()
    items.first.click()
    alert = page.locator("#modal-alert")
    try:
        alert.wait_for(state="visible", timeout=5000)
    except Exception:  # noqa: BLE001 - a menu that answers nothing is what the report says
        report.problems.append(f"{where}: an action with nothing ticked shows no message")
        return
    report.check(f"{where} nothing-ticked alert", alert.inner_text())
    alert.locator("button").first.click()
    alert.wait_for(state="hidden")


def check_delete_confirmation(page, report: Report, where: str) -> None:
    """A row's delete button: the confirm dialog (its text and both buttons) in Chinese; then 取消."""
    delete = page.locator("table a.confirm[id^='btn-delete-']")
    if not delete.count():
        return
    delete.first.click()
    dialog = page.locator("#modal-confirm")
    dialog.wait_for(state="visible")
    report.check(f"{where} delete confirmation", dialog.inner_text())
    dialog.locator("button[data-dismiss=modal]").click()
    dialog.wait_for(state="hidden")


def check_list(page, url: str, report: Report, role: str) -> None:
    page.goto(url)
    where = urlparse(url).path
    report.check(where, visible_text(page))
    check_export_clear_of_count(page, report, where)
    shows = page.eval_on_selector_all("a[href*='/show/']", "els => els.map(e => e.href)")
    add = page.eval_on_selector_all("a[href$='/add'], a[href*='/add?']", "els => els.map(e => e.href)")
    check_nothing_ticked_alert(page, report, where)
    check_delete_confirmation(page, report, where)
    if page.locator("#filter_form").count():
        open_search_panel(page, report, where)
    shot(page, f"{role}{where}")
    if shows:
        page.goto(shows[0])
        report.check(urlparse(shows[0]).path, visible_text(page))
        shot(page, f"{role}{where}show")
    if add:
        page.goto(add[0])
        report.check(urlparse(add[0]).path, visible_text(page))
        pickers = page.locator("input.union-datetime")
        if pickers.count():
            pickers.first.click()
            report.check(f"{urlparse(add[0]).path} datepicker", page.locator(".flatpickr-calendar.open").inner_text())
        shot(page, f"{role}{where}add")


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="the words on a page do not depend on the database: walked on SQLite (CI time)")
@pytest.mark.parametrize("username", ROLES)
def test_role_reads_no_english_on_any_menu_page(live_server, page, ctx, username):
    page.set_viewport_size({"width": 1280, "height": 900})
    report = Report(usernames(ctx))
    login(page, live_server, username)
    page.goto(f"{live_server}/")
    report.check("/", visible_text(page))
    for url in menu_links(page, live_server):
        check_list(page, url, report, username)
    if os.environ.get("PLAIN_TEXT_REPORT"):
        print("\n".join([f"== {username}", *report.problems]))
    assert not report.problems, report.problems


# (1280 px: every role's walk above checks it on every list)
@pytest.mark.parametrize("width", [1920])
def test_export_button_never_covers_the_record_count(live_server, page, ctx, width):
    page.set_viewport_size({"width": width, "height": 900})
    report = Report(usernames(ctx))
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/")
    lists = [u for u in menu_links(page, live_server) if "/list" in u]
    assert lists
    for url in lists:
        page.goto(url)
        check_export_clear_of_count(page, report, urlparse(url).path)
    assert not report.problems, report.problems


def _activity(ctx, title: str, status):
    from datetime import timedelta

    from models.base import utcnow
    from models.vouchers import Activity, ActivityScope, ClaimLimit
    from tests.factories import base_of, county

    union = base_of(ctx, county(ctx, 0), 0)
    activity = Activity(org_id=union.id, title=title, claim_limit=ClaimLimit.ONCE, claims_per_day=1,
                        scope=ActivityScope.OWN, status=status, start_at=utcnow() + timedelta(days=3),
                        end_at=utcnow() + timedelta(days=9))
    ctx.add(activity)
    ctx.commit()
    return activity


def test_refused_edit_stays_on_its_page_with_what_was_typed(live_server, page, ctx):
    from models.vouchers import ActivityStatus

    activity = _activity(ctx, "编辑被拒草稿", ActivityStatus.DRAFT)
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/activityview/edit/{activity.id}")
    page.fill("input[name=title]", "改过的标题")
    page.fill("input[name=claims_per_day]", "1000")  # refused by the service: 1 to 100 a day
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert f"/activityview/edit/{activity.id}" in page.url
    assert any("每天可领取次数须在 1 到" in m for m in flashes(page, "danger")), flashes(page, "danger")
    assert page.input_value("input[name=title]") == "改过的标题"
    ctx.expire_all()
    assert ctx.get(type(activity), activity.id).title == "编辑被拒草稿"


def test_submitted_activity_offers_no_edit_or_delete(live_server, page, ctx):
    from models.vouchers import ActivityStatus

    draft = _activity(ctx, "可编辑草稿", ActivityStatus.DRAFT)
    pending = _activity(ctx, "已提交活动", ActivityStatus.PENDING)
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/activityview/list/?_flt_0_title=")
    for activity, editable in ((draft, True), (pending, False)):
        row = page.locator("table tr", has_text=activity.title).first
        assert (row.locator(f"a[href*='/activityview/edit/{activity.id}']").count() == 1) is editable
        assert (row.locator("a[id^='btn-delete-']").count() == 1) is editable
    page.goto(f"{live_server}/activityview/edit/{pending.id}")  # typed in by hand: back to the row, with why
    assert f"/activityview/show/{pending.id}" in page.url
    assert any("提交审核后不能再编辑" in m for m in flashes(page, "warning"))
    assert_clean(page)
