"""File fields read Chinese in any browser language: Chromium's own button says "Choose File" /
"No file chosen" in an English browser, so every <input type=file> shows a 选择文件 button and the
chosen names instead (app/static/js/file_input.js)."""
import re

from tests.browser.pages import choose_file, login


def test_an_english_browser_shows_a_chinese_file_field_that_uploads(live_server, browser, tmp_path):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/datajobview/upload?kind=members")
    box = page.locator(".union-file-input")
    assert box.locator("label.btn").inner_text() == "选择文件"
    assert box.locator(".union-file-chosen").inner_text() == "未选择文件"
    native = page.locator("input[name=file]").bounding_box()
    assert native["width"] <= 1 and native["height"] <= 1  # the browser's English button is out of sight
    path = tmp_path / "空白.xlsx"
    path.write_bytes(b"not a workbook")
    choose_file(page, path)
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state()
    # the form went with the chosen file: the server read it (and refuses it in Chinese)
    assert re.search(r"xlsx|文件", page.locator(".alert-danger").inner_text())
    page.screenshot(path="/tmp/file-input-refused.png")
    context.close()
