"""Page helpers for the journeys: a changed form is fixed here, in one place."""
from __future__ import annotations

import os
import re

from seed.loader import DEMO_PASSWORD

# what a finished page must never show: raw enum values, Python reprs, English UI words
ENGLISH_OR_RAW = re.compile(r"\b(None|True|False|No row selected|Forbidden|Not Found|Internal Server Error|"
                            r"Traceback|verified|unverified|pending|approved|rejected)\b")


def login(page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    if page.url.startswith("http"):
        page.wait_for_load_state("networkidle")  # no late response re-setting the old session cookie
    page.context.clear_cookies()  # a fresh session: no logout page and its requests racing the login
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)  # the session cookie is set


def flashes(page, kind: str) -> list[str]:
    """The flash messages of one kind shown on the page (``success``, ``danger``, ``warning``, ``info``)."""
    return [t.strip() for t in page.locator(f".alert-{kind}").all_inner_texts()]


def assert_clean(page) -> None:
    """No red error and no English or raw value in the visible text of the page."""
    assert not flashes(page, "danger"), flashes(page, "danger")
    text = page.locator("body").inner_text()
    found = ENGLISH_OR_RAW.findall(text)
    assert not found, found


# --- date-time pickers (views/base/datetime.py: a Chinese flatpickr on every DateTime field) --------
def type_datetime(page, name: str, text: str) -> None:
    """Type a date and time into the field as a clerk does, then leave it (the picker reads it on blur).
    ``name``: the field's name, or ``#id`` where a page has two fields of that name."""
    field = page.locator(name if name.startswith("#") else f"input[name={name}]")
    field.click()
    field.press("Control+a")
    field.type(text)
    field.press("Tab")


def pick_datetime(page, name: str, when) -> None:
    """Choose ``when`` (a naive Beijing datetime) in the field's calendar: open it by clicking, step
    to the month with the arrow, click the day, type hour and minute in the picker's own boxes, and
    click outside to close it."""
    page.locator(f"input[name={name}]").click()
    calendar = page.locator(".flatpickr-calendar.open")
    calendar.wait_for()
    hour, minute = (calendar.locator(f"input.flatpickr-{part}").element_handle() for part in ("hour", "minute"))
    shown_year = int(calendar.locator(".cur-year").input_value())
    shown_month = int(calendar.locator(".flatpickr-monthDropdown-months").input_value())
    for _ in range((when.year - shown_year) * 12 + (when.month - 1 - shown_month)):
        calendar.locator(".flatpickr-next-month").click()
    calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)").filter(
        has_text=re.compile(rf"^{when.day}$")).click()
    for box, value in ((hour, when.hour), (minute, when.minute)):
        box.click()
        box.press("Control+a")
        box.type(f"{value:02d}")
        box.press("Tab")  # the picker takes a typed hour or minute when the box is left
    page.locator("body").click(position={"x": 5, "y": 300})  # outside the calendar: it closes


def choose_in_lookup(page, select: str, typed: str, option_text: str) -> None:
    """A search-as-you-type select (select2, views/lookup.py): open it, type, click the offered row.
    ``select`` is a CSS selector or the select's name."""
    css = select if select[:1] in "#.[" or " " in select or "[" in select else f"select[name={select}]"
    page.locator(f"{css} + .select2 .select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    search.type(typed)
    page.locator(".select2-results__option", has_text=option_text).first.click()


def confirm_flow_step(page, label: str, reason: str = "") -> None:
    """A review-flow button on a show page, then its confirmation form."""
    page.locator(".btn", has_text=re.compile(rf"^\s*{label}\s*$")).first.click()
    page.wait_for_selector("#flow-form")
    if reason:
        page.fill("#flow-form textarea[name=reason]", reason)
    page.click("#flow-form button[type=submit]")
    page.wait_for_load_state()


def choose_in_select2(page, name: str, option_text: str) -> None:
    """Pick an option of a select2 list (FAB's relation fields) by clicking it, as a user would."""
    page.click(f"select[name={name}] + .select2-container")
    page.click(f".select2-results__option:has-text('{option_text}')")
    page.mouse.click(5, 300)  # a multiple select2 stays open after a choice: click beside it


def submit(page, selector: str) -> None:
    """Click a button that posts a form and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)


# --- file fields (app/static/js/file_input.js: a Chinese 选择文件 button over the browser's own) -----
def choose_file(page, path, field: str = "input[name=file]") -> None:
    """Click the field's 选择文件 button, pick ``path`` in the file chooser, and see its name shown."""
    box = page.locator(".union-file-input", has=page.locator(field))
    with page.expect_file_chooser() as chooser:
        box.locator("label.btn").click()
    chooser.value.set_files(str(path))
    assert box.locator(".union-file-chosen").inner_text() == os.path.basename(str(path))
