"""Browser fixtures: the app served on a free port (CSRF enforced, like production) and one
Debian Chromium (/usr/bin/chromium, never a downloaded browser) per module."""
import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items):
    skip = pytest.mark.skip(reason="Debian chromium is not installed (apt-get install -y chromium)")
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
                item.add_marker(skip)


@pytest.fixture(scope="module")
def live_server(csrf_app):
    server = make_server("127.0.0.1", 0, csrf_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def page(browser):
    """A fresh context per test (cookies, storage), Chinese locale like the users'."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    yield context.new_page()
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed journey shows where the browser was and what it saw (CI keeps only the log)."""
    outcome = yield
    report = outcome.get_result()
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.when != "call" or not report.failed or page is None:
        return
    try:
        text = page.locator("body").inner_text(timeout=2000)
        report.sections.append(("browser page", f"url: {page.url}\n{text[:3000]}"))
    except Exception as exc:  # the page itself may be gone
        report.sections.append(("browser page", f"url unavailable: {exc!r}"))
