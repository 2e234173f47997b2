"""Page helpers for the journeys: a changed form is fixed here, in one place."""
from __future__ import annotations

import re

from seed.loader import DEMO_PASSWORD

# what a finished page must never show: raw enum values, Python reprs, English UI words
ENGLISH_OR_RAW = re.compile(r"\b(None|True|False|No row selected|Forbidden|Not Found|Internal Server Error|"
                            r"Traceback|verified|unverified|pending|approved|rejected)\b")


def login(page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
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


def choose_in_select2(page, name: str, option_text: str) -> None:
    """Pick an option of a select2 list (FAB's relation fields) by clicking it, as a user would."""
    page.click(f"select[name={name}] + .select2-container")
    page.click(f".select2-results__option:has-text('{option_text}')")
    page.mouse.click(5, 300)  # a multiple select2 stays open after a choice: click beside it


def choose_in_lookup(page, name: str, typed: str, option_text: str) -> None:
    """A search-as-you-type field (views/lookup.py): type part of the name, click the match."""
    page.click(f"select[name={name}] + .select2-container")
    page.locator(".select2-container--open .select2-search__field").press_sequentially(typed)
    page.click(f".select2-results__option:has-text('{option_text}')")
