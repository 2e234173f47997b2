"""Separation of duties: the sysadmin manages accounts only, the audit admin reads the log only."""
from sqlalchemy import select

from models.audit import AuditLog


def test_sysadmin_manages_users_but_sees_no_member_data(client_as):
    client = client_as("sysadmin")
    assert client.get("/users/list/").status_code == 200
    assert client.get("/roles/list/").status_code == 200
    for url in ("/memberview/list/", "/memberview/show/1", "/unitview/list/", "/orgview/list/",
                "/auditlogview/list/", "/orgtree/"):
        assert client.get(url).status_code == 403, url
    home = client.get("/").get_data(as_text=True)
    assert "管辖范围内会员" not in home


def test_sysadmin_cannot_edit_role_permissions(client_as):
    client = client_as("sysadmin")
    assert client.get("/roles/add").status_code == 403
    assert client.post("/roles/add", data={"name": "越权角色"}).status_code == 403


def test_audit_admin_sees_only_the_audit_log(client_as, ctx):
    client = client_as("auditadmin")
    html = client.get("/auditlogview/list/").get_data(as_text=True)
    assert "登录成功" in html
    for url in ("/memberview/list/", "/users/list/", "/unitview/list/", "/orgtree/"):
        assert client.get(url).status_code == 403, url


def test_audit_log_is_append_only(client_as, ctx):
    row_id = ctx.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
    client = client_as("auditadmin")
    assert client.get(f"/auditlogview/edit/{row_id}").status_code in (403, 404)
    assert client.post(f"/auditlogview/delete/{row_id}").status_code in (403, 404)
    row = ctx.get(AuditLog, row_id)
    row.summary = "篡改"
    import pytest

    from models.audit import AuditLogImmutableError

    with pytest.raises(AuditLogImmutableError):
        ctx.flush()
    ctx.rollback()


def test_member_role_reaches_only_the_json_api(client_as):
    client = client_as("member")
    for url in ("/memberview/list/", "/orgtree/", "/unitview/list/"):
        assert client.get(url).status_code == 403, url
