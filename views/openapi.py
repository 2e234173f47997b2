"""OpenAPI tags in Chinese (``/api/v1/_openapi``, Swagger UI at ``/swagger/v1``).

Our APIs name their tag in the class (``openapi_spec_tag``); FAB's own APIs get theirs here.
"""
from __future__ import annotations

from flask_appbuilder.api import BaseApi

FAB_API_TAGS = {
    "SecurityApi": "登录认证",
    "MenuApi": "菜单",
    "OpenApi": "接口文档",
    "UserApi": "账户管理",
    "RoleApi": "角色管理",
    "GroupApi": "用户组管理",
    "PermissionApi": "权限",
    "ViewMenuApi": "权限资源",
    "PermissionViewMenuApi": "资源权限",
    "ApiKeyApi": "API 密钥",
}


def localize_api_tags(appbuilder) -> None:
    """Give FAB's own APIs Chinese tags (their English defaults: "Security", "Menu", "OpenApi"…)."""
    for view in appbuilder.baseviews:
        name = type(view).__name__
        if isinstance(view, BaseApi) and name in FAB_API_TAGS:
            view.openapi_spec_tag = FAB_API_TAGS[name]
