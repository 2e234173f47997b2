"""Licence, logo and cover pictures: uploaded, re-encoded (no EXIF, no payload), served in scope only."""
import io
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from app.storage import store
from models.base import DISPLAY_TZ, utcnow
from models.members import Member
from models.security import AppUser
from models.vouchers import Activity, Merchant
from tests.factories import base_of, county, make_user
from tests.test_api import _token


def picture(kind="JPEG", size=(40, 30), exif_make=None, trailer=b"") -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    extra = {}
    if exif_make:
        exif = Image.Exif()
        exif[0x010F] = exif_make  # camera make: stands for any EXIF (GPS included)
        extra["exif"] = exif.tobytes()
    image.save(out, format=kind, **extra)
    return out.getvalue() + trailer


def _merchant_form(union, name, **files):
    return {"org": str(union.id), "name": name, "type": "merchant", "mobile": "13800138000",
            **{f"{column}_upload": (io.BytesIO(data), filename) for column, (data, filename) in files.items()}}


def _stored(name):
    return store().read_bytes("images", name)


def test_merchant_pictures_are_reencoded_and_shown(client_as, ctx):
    union = base_of(ctx, county(ctx, 0))
    client = client_as("county_admin")
    form = client.get("/merchantview/add").get_data(as_text=True)
    for column in ("licence_image", "logo_image"):
        assert re.search(rf'<input[^>]*name="{column}_upload"[^>]*type="file"|<input[^>]*type="file"[^>]*name="{column}_upload"', form)
    assert "营业执照" in form and 'accept="image/png,image/jpeg,image/webp"' in form
    response = client.post("/merchantview/add", content_type="multipart/form-data", data=_merchant_form(
        union, "有执照的商家",
        licence_image=(picture(exif_make="SpyCam", trailer=b"<script>alert(1)</script>"), "执照.jpg"),
        logo_image=(picture("PNG", size=(4000, 1000)), "logo.png")))
    assert response.status_code == 302
    merchant = ctx.scalar(select(Merchant).where(Merchant.name == "有执照的商家"))
    assert merchant.licence_image.endswith(".jpg") and merchant.logo_image.endswith(".png")
    licence = _stored(merchant.licence_image)
    assert b"SpyCam" not in licence and b"<script>" not in licence
    assert Image.open(io.BytesIO(_stored(merchant.logo_image))).size == (2000, 500)  # scaled to IMAGE_MAX_SIDE
    html = client.get(f"/merchantview/show/{merchant.id}").get_data(as_text=True)
    url = f"/merchantview/image/licence_image/{merchant.licence_image}"
    assert f'src="{url}"' in html and "营业执照" in html and "商家Logo" in html and "Logo Image" not in html
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg" and served.data == licence
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_bad_pictures_are_refused_with_the_form_kept(client_as, ctx):
    union = base_of(ctx, county(ctx, 0))
    client = client_as("county_admin")
    cases = [((b"<html>not a picture</html>", "fake.png"), "文件不是有效的图片"),
             ((picture("GIF"), "anim.gif"), "仅支持 JPG、PNG、WebP"),
             ((b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024 + 10), "huge.jpg"), "图片不能超过 5 MB")]
    for (data, filename), message in cases:
        html = client.post("/merchantview/add", content_type="multipart/form-data", data=_merchant_form(
            union, "坏图商家", logo_image=(data, filename))).get_data(as_text=True)
        assert message in html and "坏图商家" in html, filename  # the form comes back filled in
    assert ctx.scalar(select(Merchant).where(Merchant.name == "坏图商家")) is None


def test_pictures_are_served_only_within_scope(client_as, ctx):
    union = base_of(ctx, county(ctx, 0))
    client_as("county_admin").post("/merchantview/add", content_type="multipart/form-data", data=_merchant_form(
        union, "范围内商家", logo_image=(picture("WEBP"), "logo.webp")))
    merchant = ctx.scalar(select(Merchant).where(Merchant.name == "范围内商家"))
    url = f"/merchantview/image/logo_image/{merchant.logo_image}"
    assert client_as("county_admin").get(url).status_code == 200
    other_county = make_user(ctx, "区县工会管理员", county(ctx, 1))
    assert client_as(other_county.username).get(url).status_code == 404
    assert client_as("merchant").get(url).status_code == 404          # another merchant's logo
    assert client_as("member").get(url).status_code in (302, 403)      # no back-office access
    assert client_as("county_admin").get("/merchantview/image/logo_image/..%2F..%2Funion.db").status_code == 404
    assert client_as("county_admin").get(f"/merchantview/image/intro/{merchant.logo_image}").status_code == 404


def test_activity_cover_reaches_members_of_its_scope_only(app, client_as, ctx):
    member_user = ctx.scalar(select(AppUser).where(AppUser.username == "member"))
    union = ctx.get(Member, member_user.member_id).org
    when = lambda hours: (utcnow() + timedelta(hours=hours)).astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    client_as("county_admin").post("/activityview/add", content_type="multipart/form-data", data={
        "org": str(union.id), "title": "有封面的活动", "claim_limit": "once", "claims_per_day": "1", "scope": "own",
        "start_at": when(2), "end_at": when(48), "content": "封面测试",
        "cover_image_upload": (io.BytesIO(picture("PNG")), "cover.png")})
    activity = ctx.scalar(select(Activity).where(Activity.title == "有封面的活动"))
    assert activity.cover_image.endswith(".png")
    api = app.test_client()
    headers = _token(api, "member")
    cover = f"/api/v1/member-vouchers/activities/{activity.id}/cover"
    draft = api.get(cover, headers=headers)
    assert draft.status_code == 404 and draft.json["code"] == "not_found"  # not approved yet
    activity.status = "approved"
    ctx.commit()
    served = api.get(cover, headers=headers)
    assert served.status_code == 200 and served.mimetype == "image/png"
    activity.org_id = base_of(ctx, county(ctx, 2), 3).id  # now another union's activity
    ctx.commit()
    assert api.get(cover, headers=headers).status_code == 404
