"""Chinese by default, English available, our catalog compiled and complete."""
import importlib.util
import io
from pathlib import Path

from babel.messages.mofile import read_mo

ROOT = Path(__file__).resolve().parent.parent


def test_committed_catalog_is_fresh():
    spec = importlib.util.spec_from_file_location("zh_catalog", ROOT / "tools" / "zh_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _po, mo = module.build()
    committed = read_mo(io.BytesIO((module.DIR / "messages.mo").read_bytes()))
    fresh = read_mo(io.BytesIO(mo))
    # the messages, not the bytes: the header names the Babel version that compiled it
    assert {m.id: m.string for m in committed if m.id} == {m.id: m.string for m in fresh if m.id}, \
        "run python tools/zh_catalog.py"
    assert all(v for v in module.ZH.values())


def test_login_page_is_chinese_by_default(app):
    html = app.test_client().get("/login/").get_data(as_text=True)
    assert "登录" in html and "用户名" in html


def test_menu_and_labels_are_chinese_and_english_is_available(client_as):
    client = client_as("county_admin")
    html = client.get("/memberview/list/").get_data(as_text=True)
    for word in ("组织与会员", "会员管理", "姓名", "证件号码", "实名认证", "新增"):
        assert word in html, word
    client.get("/lang/en")
    html = client.get("/memberview/list/").get_data(as_text=True)
    assert "ID number" in html and "Organizations and members" in html
    client.get("/lang/zh")
