"""§3.3 Upload checks that could be sidestepped: DOCTYPE anywhere in any part, macros by content
type, the request size limit, JPEG comments."""
import io

import pytest
from PIL import Image

from app.images import reencode_image
from app.xlsx.safety import HostileFileError, check_xlsx
from tests.imports.hostile import CONTENT_TYPES, MAIN, sheet_xml, write_xlsx

MB = 1024 * 1024
XXE = '<!doctype x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


def _refused(path, message):
    with pytest.raises(HostileFileError, match=message):
        check_xlsx(path, max_bytes=20 * MB)


def test_a_plain_hand_written_workbook_passes(tmp_path):
    check_xlsx(write_xlsx(tmp_path / "ok.xlsx", [["张三"]]), max_bytes=MB)


def test_doctype_after_the_first_4_kb_lower_case_or_in_an_upper_case_part_is_refused(tmp_path):
    padded = sheet_xml([["x" * 100] for _ in range(200)])  # ~30 KB before the declaration
    late = padded.replace("</sheetData>", f"</sheetData>{XXE}")
    _refused(write_xlsx(tmp_path / "late.xlsx", sheet=late), "DOCTYPE")
    _refused(write_xlsx(tmp_path / "lower.xlsx", parts={"xl/sharedStrings.xml": f'<?xml version="1.0"?>{XXE}<sst/>'}),
             "DOCTYPE")
    _refused(write_xlsx(tmp_path / "upper.xlsx", parts={"xl/Styles.XML": f"<?xml version='1.0'?>\n{XXE}<x/>"}),
             "DOCTYPE")
    _refused(write_xlsx(tmp_path / "entity.xlsx", parts={"docProps/custom.dat": '<x><!ENTITY a "b"></x>'}), "DOCTYPE")
    _refused(write_xlsx(tmp_path / "utf16.xlsx", parts={"xl/styles.xml": "<x/>".encode("utf-16")}), "UTF-16")


def test_macros_are_found_by_content_type_whatever_the_part_is_called(tmp_path):
    macro_main = CONTENT_TYPES.format(main="application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    _refused(write_xlsx(tmp_path / "xlsm.xlsx", content_types=macro_main), "宏")
    vba = CONTENT_TYPES.format(main=MAIN).replace(
        "</Types>", '<Override PartName="/xl/innocent.dat" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    _refused(write_xlsx(tmp_path / "vba.xlsx", content_types=vba, parts={"xl/innocent.dat": b"\xd0\xcf\x11\xe0"}), "宏")
    _refused(write_xlsx(tmp_path / "named.xlsx", parts={"xl/VBAProject.BIN": b"\xd0\xcf\x11\xe0"}), "宏")


def test_an_anonymous_60_mb_post_is_refused_with_413_in_chinese(app):
    client = app.test_client()
    response = client.post("/login/", data=b"x" * (60 * MB), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "提交的内容过大" in html and "Request Entity Too Large" not in html
    assert app.config["MAX_CONTENT_LENGTH"] >= app.config["IMPORT_MAX_BYTES"]


def test_an_upload_over_the_request_limit_is_a_chinese_page(client_as, app):
    client = client_as("county_admin")
    response = client.post("/datajobview/upload", content_type="multipart/form-data",
                           data={"kind": "members", "file": (io.BytesIO(b"PK\x03\x04" + b"0" * (30 * MB)), "big.xlsx")})
    assert response.status_code == 413 and "提交的内容过大" in response.get_data(as_text=True)


def test_a_jpeg_comment_does_not_survive_re_encoding(app):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "JPEG", comment=b"<script>alert(1)</script>")
    assert b"<script>" in buffer.getvalue()
    with app.app_context():
        clean, ext, _mime = reencode_image(buffer.getvalue())
    assert ext == "jpg" and b"<script>" not in clean and b"\xff\xfe" not in clean  # no COM segment at all
    assert Image.open(io.BytesIO(clean)).size == (40, 30)


def test_hostile_sheets_uploaded_through_the_page_are_refused_in_chinese(client_as, ctx, tmp_path):
    from models.imports import DataJob
    from tests.imports.hostile import corrupt_crc

    client = client_as("county_admin")
    before = ctx.query(DataJob).count()
    for path, message in ((write_xlsx(tmp_path / "xfd.xlsx", extra_cell="XFD1048576"), "列数超出模板"),
                          (corrupt_crc(write_xlsx(tmp_path / "crc.xlsx", [["张三"] * 13] * 20)), "文件已损坏"),
                          (write_xlsx(tmp_path / "xxe.xlsx", parts={"xl/Styles.XML": XXE}), "DOCTYPE")):
        with open(path, "rb") as fh:
            response = client.post("/datajobview/upload", content_type="multipart/form-data",
                                   data={"kind": "members", "file": (fh, "h.xlsx")})
        assert response.status_code == 200 and message in response.get_data(as_text=True), message
    assert ctx.query(DataJob).count() == before
