"""The API documentation speaks Chinese: every tag of /api/v1/_openapi (and so of /swagger/v1)."""
import re


def test_every_openapi_tag_is_chinese(client_as):
    client = client_as("county_admin")
    spec = client.get("/api/v1/_openapi").get_json()
    tags = {tag for operations in spec["paths"].values() for op in operations.values() for tag in op.get("tags", [])}
    assert {"会员自助服务", "商家核销", "会员管理", "登录认证"} <= tags
    assert not [t for t in tags if re.search(r"[A-Za-z]{2,}", t.replace("API", ""))], tags
    swagger = client.get("/swagger/v1")
    assert swagger.status_code == 200 and "/api/v1/_openapi" in swagger.get_data(as_text=True)


def test_member_endpoints_carry_the_self_service_tag(client_as):
    spec = client_as("county_admin").get("/api/v1/_openapi").get_json()
    for path, operations in spec["paths"].items():
        if path.startswith(("/api/v1/me/", "/api/v1/member-vouchers/")):
            assert all(op["tags"] == ["会员自助服务"] for op in operations.values()), path
        if path.startswith("/api/v1/merchant-vouchers/"):
            assert all(op["tags"] == ["商家核销"] for op in operations.values()), path
