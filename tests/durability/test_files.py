"""Files: retention removes only what is old or orphaned, a nearly full disk is refused in
Chinese with nothing left behind, and the S3-compatible store (moto's server) serves the app."""
import io
import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.storage import FileStore, S3FileStore, store
from models.base import utcnow
from models.imports import DataJob, JobDirection, JobStatus
from models.vouchers import Merchant
from tests.conftest import IsolatedClient, _config, login
from tests.factories import MEMBER_HEADER, base_of, county, make_xlsx, member_row


def _aged(kind, days, data=b"x", suffix=".xlsx"):
    """A stored file last modified ``days`` ago (local store)."""
    name = store().put_bytes(kind, data, suffix)
    stamp = time.time() - days * 86400
    os.utime(store()._path(kind, name), (stamp, stamp))
    return name


def _job(ctx, status, **names):
    job = DataJob(direction=JobDirection.IMPORT, kind="members", kind_label="会员信息采集", file_name="r.xlsx",
                  status=status, **names)
    ctx.add(job)
    ctx.commit()
    return job


def test_retention_removes_only_what_is_old(ctx):
    from app.services.retention import apply_retention

    old_done = _job(ctx, JobStatus.SUCCEEDED, stored_name=_aged("uploads", 91), result_name=_aged("results", 8))
    young_done = _job(ctx, JobStatus.PARTIAL, stored_name=_aged("uploads", 89), result_name=_aged("results", 6))
    old_running = _job(ctx, JobStatus.RUNNING, stored_name=_aged("uploads", 200))
    kept = {("uploads", young_done.stored_name), ("results", young_done.result_name),
            ("uploads", old_running.stored_name)}
    orphan_old, orphan_new = _aged("results", 2), _aged("exports", 0)
    logo_old = _aged("images", 400, suffix=".png")
    merchant = ctx.scalars(select(Merchant)).first()
    merchant.logo_image = logo_old
    image_orphan = _aged("images", 3, suffix=".png")
    attachment = _aged("attachments", 400, suffix=".pdf")  # no column declares attachments yet: kept
    scratch_old = store().root / "tmp" / "left-by-a-killed-process.xlsx"
    scratch_old.write_bytes(b"half")
    os.utime(scratch_old, (time.time() - 3 * 86400,) * 2)
    scratch_new = store().root / "tmp" / "being-written.xlsx"
    scratch_new.write_bytes(b"half")
    ctx.commit()

    apply_retention(ctx)

    gone = {("uploads", old_done.stored_name), ("results", old_done.result_name), ("results", orphan_old),
            ("images", image_orphan)}
    assert all(not store().exists(kind, name) for kind, name in gone)
    kept |= {("exports", orphan_new), ("images", logo_old), ("attachments", attachment)}
    assert all(store().exists(kind, name) for kind, name in kept)
    assert not scratch_old.exists() and scratch_new.exists()
    ctx.expire_all()
    assert (old_done.stored_name, old_done.result_name) == (None, None)  # the page no longer offers them
    assert young_done.result_name and old_running.stored_name
    scratch_new.unlink()


def test_nearly_full_disk_refuses_the_upload_in_chinese_and_keeps_nothing(app, db_url, tmp_path):
    from app import create_app

    full = create_app(_config(db_url, FILE_MIN_FREE_MB=10**9))
    full.test_client_class = IsolatedClient
    client = full.test_client()
    login(client, "county_admin")
    store_root = FileStore(full.config["FILE_DIR"]).root
    before = {p.name for p in store_root.glob("*/*")}
    path = make_xlsx(tmp_path / "full.xlsx", [MEMBER_HEADER, ["张三"]])
    with open(path, "rb") as fh:
        response = client.post("/datajobview/upload", data={"kind": "members", "file": (fh, "full.xlsx")})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "服务器存储空间不足" in html and "请联系系统管理员" in html
    assert {p.name for p in store_root.glob("*/*")} == before


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    for key, value in saved.items():
        os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)


@pytest.fixture(scope="session")
def bucket(s3_server):
    import boto3

    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket="union-files")
    return "union-files"


def test_s3_store_keeps_the_file_store_contract(s3_server, bucket, tmp_path, app):
    files = S3FileStore(tmp_path, bucket=bucket, prefix="contract/", endpoint_url=s3_server, region="us-east-1")
    with files.scratch(".xlsx") as path:
        path.write_bytes(b"kept")
        name = files.put("results", path)
    assert not path.exists() and files.exists("results", name) and files.read_bytes("results", name) == b"kept"
    with files.local_copy("results", name) as local:
        assert local.read_bytes() == b"kept"
    assert not local.exists()
    listed = list(files.list("results"))
    assert [f.name for f in listed] == [name] and utcnow() - listed[0].modified < timedelta(minutes=5)
    for bad in ("../secret", ".hidden", "", None):
        assert not files.exists("uploads", bad)
    with pytest.raises(FileNotFoundError), files.local_copy("uploads", "0" * 32 + ".xlsx"):
        pass
    with app.test_request_context():
        response = files.response("results", name, mimetype="application/octet-stream", download_name="结果.xlsx")
        assert b"".join(response.response) == b"kept" and "attachment" in response.headers["Content-Disposition"]
    files.delete("results", name)
    assert not files.exists("results", name) and not any((tmp_path / "tmp").iterdir())


def test_import_with_files_in_the_bucket(s3_server, bucket, db_url, app, ctx, tmp_path):
    """Upload on one host, run and download anywhere: nothing of the job lives on the local disk."""
    from app import create_app

    hosted = create_app(_config(db_url, FILE_STORE="s3", S3_BUCKET=bucket, S3_ENDPOINT_URL=s3_server,
                                S3_REGION="us-east-1", S3_PREFIX="app/", FILE_DIR=str(tmp_path / "local")))
    hosted.test_client_class = IsolatedClient
    client = hosted.test_client()
    login(client, "county_admin")
    org = base_of(ctx, county(ctx), 0)
    path = make_xlsx(tmp_path / "s3.xlsx", [MEMBER_HEADER, member_row(org), member_row(org, phone="123")])
    with open(path, "rb") as fh:
        response = client.post("/datajobview/upload", data={"kind": "members", "file": (fh, "s3.xlsx")})
    assert response.status_code == 302
    job = ctx.scalars(select(DataJob).where(DataJob.file_name == "s3.xlsx")).one()
    assert job.status == JobStatus.PARTIAL and (job.created_rows, job.error_rows) == (1, 1)
    download = client.get(f"/datajobview/file/{job.id}/result")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    with hosted.app_context():
        assert isinstance(store(), S3FileStore) and store().exists("uploads", job.stored_name)
    assert not [p for p in (tmp_path / "local").rglob("*") if p.is_file()]


def test_picture_in_the_bucket_is_served(s3_server, bucket, db_url, app, tmp_path):
    from PIL import Image

    from app import create_app
    from app.images import image_response, store_image

    hosted = create_app(_config(db_url, FILE_STORE="s3", S3_BUCKET=bucket, S3_ENDPOINT_URL=s3_server,
                                S3_REGION="us-east-1", FILE_DIR=str(tmp_path)))
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, format="PNG")
    with hosted.test_request_context():
        name = store_image(png.getvalue())
        response = image_response(name)
        assert response.mimetype == "image/png" and b"".join(response.response)[:4] == b"\x89PNG"
