"""The browser's own widgets follow the browser's language (an English Chromium says "Choose File",
"No file chosen" and mm/dd/yyyy): every file field shows a 选择文件 button and the chosen names
(app/static/js/file_input.js), every <input type=date> of a page becomes the Chinese date picker
(app/static/js/datetime.js)."""
import re

from tests.browser.pages import choose_file, login, type_datetime


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


def test_an_english_browser_picks_a_date_in_chinese_on_a_page_of_its_own(live_server, browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    login(page, live_server, "office")
    page.goto(f"{live_server}/claims/accept")
    field = page.locator("#incident_date")
    assert field.get_attribute("type") == "text" and field.get_attribute("placeholder") == "年-月-日"
    field.click()
    calendar = page.locator(".flatpickr-calendar.open")
    calendar.wait_for()
    assert "周一" in calendar.inner_text() and not re.search(r"Mon|Sun|January|December", calendar.inner_text())
    page.keyboard.press("Escape")
    type_datetime(page, "#incident_date", "2026/5/1")  # typed as a clerk would: read, and written the one way
    assert field.input_value() == "2026-05-01"
    page.screenshot(path="/tmp/date-input-english-browser.png")
    context.close()
