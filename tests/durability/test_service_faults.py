"""What a user and the load balancer see when a service fails: logins without Redis, the first
page after the database dropped its connections, the upload with the queue down, /healthz,
重新执行 on the job page, production logs as JSON lines."""
import json
import logging

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.pool import NullPool

from app.services import imports
from models.imports import DataJob, JobStatus, WorkerHeartbeat
from tests.conftest import IsolatedClient, _config, login
from tests.durability.conftest import free_port
from tests.factories import MEMBER_HEADER, base_of, county, make_xlsx, member_row, submit_member_file

DEAD_REDIS = f"redis://127.0.0.1:{free_port()}/9"


def _app(db_url, **extra):
    from app import create_app

    application = create_app(_config(db_url, **extra))
    application.test_client_class = IsolatedClient
    return application


def test_login_works_while_the_rate_limit_store_is_down_and_still_limits(app, db_url):
    limited = _app(db_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=DEAD_REDIS, AUTH_RATE_LIMIT="4 per minute")
    client = limited.test_client()
    response = login(client, "county_admin")
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    codes = [client.post("/login/", data={"username": "nobody", "password": "x"}).status_code for _ in range(5)]
    assert codes[-1] == 429  # counted per process meanwhile


def test_first_page_after_the_database_dropped_every_connection_works(client_as, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("connections to drop are PostgreSQL's")
    import os

    client = client_as("county_admin")
    assert client.get("/memberview/list/").status_code == 200
    admin = create_engine(db_url, poolclass=NullPool)
    with admin.begin() as connection:  # what a database restart does to the pool's connections
        killed = connection.scalar(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :name AND pid <> pg_backend_pid()"),
            {"name": f"union:{os.getpid()}"})
    admin.dispose()
    assert killed >= 1
    response = client.get("/memberview/list/")
    assert response.status_code == 200 and "会员" in response.get_data(as_text=True)


def test_upload_with_the_queue_down_keeps_the_job_and_says_so(db_url, ctx, tmp_path):
    queue_down = _app(db_url, CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=DEAD_REDIS)
    client = queue_down.test_client()
    login(client, "county_admin")
    path = make_xlsx(tmp_path / "queue.xlsx", [MEMBER_HEADER, member_row(base_of(ctx, county(ctx), 0))])
    with open(path, "rb") as fh:
        response = client.post("/datajobview/upload", data={"kind": "members", "file": (fh, "queue.xlsx")},
                               follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "系统恢复后将自动开始处理" in html and "Error" not in html
    job = ctx.scalars(select(DataJob).where(DataJob.file_name == "queue.xlsx")).one()
    assert (job.status, job.enqueued_at) == (JobStatus.PENDING, None)


def test_healthz_answers_for_the_database_broker_and_workers(app, db_url, ctx):
    client = app.test_client()
    ctx.execute(WorkerHeartbeat.__table__.delete())
    ctx.commit()
    body = client.get("/healthz").get_json()
    assert body["status"] == "fail" and body["checks"]["worker"] == {**body["checks"]["worker"], "ok": False}
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    from app.services.jobs import record_worker_alive

    record_worker_alive(ctx, "celery@test")
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["checks"]["worker"]["alive"] == 1
    broker_down = _app(db_url, CELERY_BROKER_URL=DEAD_REDIS).test_client().get("/healthz")
    assert broker_down.status_code == 503 and broker_down.get_json()["checks"]["broker"]["ok"] is False


def test_admin_reruns_a_failed_job_from_its_page(client_as, ctx, tmp_path, monkeypatch):
    org = base_of(ctx, county(ctx), 0)
    job = submit_member_file(ctx, make_xlsx(tmp_path / "rerun.xlsx", [MEMBER_HEADER, member_row(org)]))
    monkeypatch.setattr(imports, "_run_batches", lambda *a: (_ for _ in ()).throw(MemoryError()))
    imports.run_import(ctx, job.id)
    monkeypatch.undo()
    admin = client_as("county_admin")
    page = admin.get(f"/datajobview/show/{job.id}").get_data(as_text=True)
    assert "执行失败" in page and "服务器内存不足" in page and "重新执行" in page and "MemoryError" not in page
    assert client_as("auditor").post(f"/datajobview/action/retry/{job.id}").status_code == 403
    assert client_as("county2_admin").post(f"/datajobview/action/retry/{job.id}").status_code == 404
    ctx.expire_all()
    assert ctx.get(DataJob, job.id).status == JobStatus.FAILED  # the refused ones changed nothing
    response = admin.post(f"/datajobview/action/retry/{job.id}", follow_redirects=True)
    assert response.status_code == 200 and "已重新提交" in response.get_data(as_text=True)
    ctx.expire_all()
    assert ctx.get(DataJob, job.id).status == JobStatus.SUCCEEDED
    again = admin.post(f"/datajobview/action/retry/{job.id}", follow_redirects=True).get_data(as_text=True)
    assert "任务已完成，无需重新执行" in again
    ctx.execute(update(DataJob).where(DataJob.id == job.id).values(status=JobStatus.SUCCEEDED))
    ctx.commit()


def test_production_logs_are_one_json_object_per_line(app, db_url, capsys):
    from app.json_logs import JsonFormatter

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        _app(db_url, APP_ENV="production", SECRET_KEY="x" * 40)
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        try:
            raise ValueError("坏了")
        except ValueError:
            logging.getLogger("app.test").exception("导入任务 %s 失败", 7)
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        entry = json.loads(lines[-1])
        assert entry["message"] == "导入任务 7 失败" and entry["level"] == "ERROR" and "ValueError" in entry["exception"]
    finally:
        root.handlers[:], _level = saved[0], root.setLevel(saved[1])
