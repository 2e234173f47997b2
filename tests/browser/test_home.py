"""Each main role opens its home page in Chromium: the to-do cards and the charts (drawn by our own
ECharts: a canvas per chart), no console error, no request to any host but ours; a card opens the
list that shows its number; the statistics page sorts; an error page offers a way back."""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from tests.browser.pages import assert_clean, login

MAIN_ROLES = ["county_admin", "base_admin", "reviewer", "finance", "merchant", "auditor"]


def watch(page, base_url: str) -> dict:
    """Collect console errors, page errors and requests to other hosts while the page works."""
    seen = {"errors": [], "foreign": []}
    host = urlparse(base_url).netloc
    page.on("console", lambda msg: seen["errors"].append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: seen["errors"].append(str(err)))
    page.on("request", lambda req: None if urlparse(req.url).netloc == host or req.url.startswith("data:")
            else seen["foreign"].append(req.url))
    return seen


def charts_drawn(page) -> int:
    page.wait_for_function("() => [...document.querySelectorAll('.union-chart')].every(c => c.dataset.drawn)")
    return page.locator(".union-chart[data-drawn='1'] canvas").count()


@pytest.mark.parametrize("username", MAIN_ROLES)
def test_role_opens_its_home_page_with_cards_and_charts(live_server, page, username):
    seen = watch(page, live_server)
    login(page, live_server, username)
    page.goto(f"{live_server}/")
    page.wait_for_load_state("networkidle")
    expected_charts = page.locator(".union-chart").count()
    assert expected_charts >= 1 and charts_drawn(page) == expected_charts
    assert page.locator("#home-todo").count() == 1
    page.screenshot(path=f"/tmp/h5-home-{username}.png", full_page=True)
    assert_clean(page)
    assert seen["errors"] == [] and seen["foreign"] == []


def test_county_admin_follows_a_card_to_its_list(live_server, page):
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/")
    card = page.locator("#card-pending-cert")
    shown = int(card.locator(".home-card-count").inner_text())
    card.click()
    page.wait_for_url(re.compile(r"/memberview/list/"))
    total = int(re.search(r"记录数目:\s*(\d+)", page.locator("body").inner_text()).group(1))
    assert total == shown and page.locator("table.table-bordered tbody tr:has-text('待审核')").count() == min(shown, 20)
    assert_clean(page)


def test_county_admin_sorts_the_statistics_and_sees_the_charts(live_server, page):
    seen = watch(page, live_server)
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/")
    page.click("#home-statistics-link")
    page.wait_for_url(re.compile(r"/statistics/"))
    assert charts_drawn(page) == 3
    page.click("#stat-table a.stat-sort[data-key='members']")
    page.wait_for_url(re.compile(r"sort=members"))
    members = [int(t) for t in page.locator("#stat-table tbody td.stat-members").all_inner_texts()]
    assert members == sorted(members, reverse=True)
    page.screenshot(path="/tmp/h5-statistics.png", full_page=True)
    assert_clean(page)
    assert seen["errors"] == [] and seen["foreign"] == []


def test_error_page_offers_the_way_back(live_server, page):
    login(page, live_server, "reviewer")
    page.goto(f"{live_server}/memberview/list/")
    page.goto(f"{live_server}/auditlogview/list/")  # not the reviewer's
    assert "无权访问" in page.locator("#error-page").inner_text()
    page.screenshot(path="/tmp/h5-error-403.png", full_page=True)
    page.click("#error-back")
    page.wait_for_url(re.compile(r"/memberview/list/"))
    page.goto(f"{live_server}/no-such-page/")
    assert "页面不存在" in page.inner_text("#error-page") and page.locator(".navbar").count() == 1
    page.click("#error-home")
    page.wait_for_selector("#home-todo")
