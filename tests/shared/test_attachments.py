"""Attachments: pictures re-encoded, PDFs checked from their content (scripts, actions, embedded
files, encryption, escaped names), the type decided by the bytes and never by the name."""
import io

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject
from sqlalchemy import select

from app.services import attachments
from app.services.errors import DomainError
from app.storage import store
from models.organizations import Org


def pdf_bytes(mutate=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if mutate:
        mutate(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 30), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker GPS"  # Make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture()
def owner(ctx):
    return ctx.scalar(select(Org).limit(1))


def test_a_picture_is_reencoded_without_its_exif(ctx, owner):
    data = jpeg_with_exif() + b"<script>alert(1)</script>"
    att = attachments.add_attachment(ctx, owner=owner, kind="licence", file_name="营业执照.JPG", data=data)
    kept = store().read_bytes("attachments", att.stored_name)
    assert att.mime == "image/jpeg" and att.file_name == "营业执照.jpg" and att.size == len(kept)
    assert b"PhoneMaker" not in kept and b"<script>" not in kept
    assert Image.open(io.BytesIO(kept)).size == (40, 30)


def test_a_clean_pdf_is_kept_as_is_with_its_hash(ctx, owner):
    import hashlib

    data = pdf_bytes()
    att = attachments.add_attachment(ctx, owner=owner, kind="file", file_name="../../etc/材料.pdf", data=data)
    assert att.mime == "application/pdf" and att.file_name == "材料.pdf"
    assert att.sha256 == hashlib.sha256(data).hexdigest()
    assert attachments.attachments_of(ctx, owner, "file")[-1].id == att.id


@pytest.mark.parametrize("mutate", [
    lambda w: w.pages[0].__setitem__(NameObject("/Annots"), ArrayObject([DictionaryObject({
        NameObject("/Subtype"): NameObject("/Link"), NameObject("/A"): DictionaryObject({
            NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")})})])),
    lambda w: w.add_attachment("payload.exe", b"MZ..."),
    lambda w: w._root_object.__setitem__(NameObject("/OpenAction"), DictionaryObject({
        NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")})),
    lambda w: w.encrypt("secret"),
], ids=["javascript", "embedded-file", "open-action", "encrypted"])
def test_active_or_locked_pdfs_are_refused(ctx, owner, mutate):
    with pytest.raises(DomainError) as err:
        attachments.add_attachment(ctx, owner=owner, kind="file", file_name="x.pdf", data=pdf_bytes(mutate))
    assert err.value.code == "file_refused" and ("脚本" in err.value.message or "加密" in err.value.message)


def test_an_escaped_name_does_not_hide_an_open_action(ctx, owner):
    data = pdf_bytes(lambda w: w._root_object.__setitem__(NameObject("/OpenAction"), DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("x")})))
    data = data.replace(b"/OpenAction", b"/Open#41ction").replace(b"/JS ", b"/J#53 ")
    with pytest.raises(DomainError, match="脚本"):
        attachments.add_attachment(ctx, owner=owner, kind="file", file_name="x.pdf", data=data)


def test_a_renamed_executable_is_refused_whatever_its_name(ctx, owner):
    with pytest.raises(DomainError, match="仅支持 JPG、PNG、WebP 图片或 PDF 文件"):
        attachments.add_attachment(ctx, owner=owner, kind="file", file_name="scan.pdf", data=b"MZ\x90\x00" * 100)
    with pytest.raises(DomainError, match="此处只接受图片"):
        attachments.add_attachment(ctx, owner=owner, kind="licence", file_name="x.pdf", data=pdf_bytes(),
                                   accept=(attachments.IMAGES,))


def test_a_damaged_pdf_and_an_oversized_file_are_refused(ctx, owner, app):
    with pytest.raises(DomainError, match="损坏"):
        attachments.add_attachment(ctx, owner=owner, kind="file", file_name="x.pdf", data=b"%PDF-1.7\n garbage")
    limit = app.config["ATTACHMENT_MAX_BYTES"]
    with pytest.raises(DomainError, match="不能超过 10 MB"):
        attachments.add_attachment(ctx, owner=owner, kind="file", file_name="x.pdf", data=b"%PDF-" + b"0" * limit)
    with pytest.raises(DomainError, match="请选择"):
        attachments.add_attachment(ctx, owner=owner, kind="file", file_name="x.pdf", data=b"")


def test_an_attachment_of_another_owner_is_not_found(ctx, owner):
    from app.services.errors import NotFoundError

    att = attachments.add_attachment(ctx, owner=owner, kind="file", file_name="a.pdf", data=pdf_bytes())
    other = ctx.scalar(select(Org).where(Org.id != owner.id).limit(1))
    with pytest.raises(NotFoundError):
        attachments.owned_attachment(ctx, other, att.id)
    attachments.delete_attachment(ctx, owner, att.id)
    assert not store().exists("attachments", att.stored_name)
