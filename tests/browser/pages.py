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


def submit(page, selector: str) -> None:
    """Click a button that posts a form and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)
