"""FAB views, one module per domain; ``register_views`` puts them in the menu."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from .accounts import AccountView
from .api import MeApi, MemberApi, MemberRegistrationApi
from .audit import AuditLogView
from .base.datetime import datetime_assets
from .imports import DataJobView
from .members import MemberView
from .merchant_api import MerchantVoucherApi
from .mutual_aid import register_mutual_aid_views
from .notices import ArticleView
from .openapi import localize_api_tags
from .organizations import OrgTreeView, OrgView, UnitView
from .recuperation import register_recuperation_views
from .redeem import RedeemView
from .service_cards import register_service_card_views
from .statistics import StatisticsView
from .voucher_api import MemberVoucherApi
from .worker_api import ArticleApi, WorkerApi
from .vouchers import ActivityReviewView, ActivityView, CouponView, MerchantView, VoucherView


def register_views(appbuilder) -> None:
    current_app.jinja_env.globals["datetime_assets"] = datetime_assets  # list filters' date-time pickers
    org = _l("Organizations and members")
    appbuilder.add_view(OrgTreeView, "Organization tree", label=_l("Organization tree"), icon="fa-sitemap",
                        category="OrgMembers", category_label=org, category_icon="fa-users")
    appbuilder.add_view(OrgView, "Organizations", label=_l("Organizations"), icon="fa-building",
                        category="OrgMembers")
    appbuilder.add_view(UnitView, "Units", label=_l("Units"), icon="fa-industry", category="OrgMembers")
    appbuilder.add_view(MemberView, "Members", label=_l("Members"), icon="fa-id-card", category="OrgMembers")
    appbuilder.add_view(DataJobView, "Data jobs", label=_l("Data jobs"), icon="fa-tasks", category="OrgMembers")
    appbuilder.add_link("Import members", href="/datajobview/upload?kind=members", label=_l("Import members"),
                        icon="fa-upload", category="OrgMembers")
    welfare = _l("Welfare activities")
    appbuilder.add_view(MerchantView, "Merchants", label=_l("Merchants"), icon="fa-shopping-bag",
                        category="Welfare", category_label=welfare, category_icon="fa-gift")
    appbuilder.add_view(CouponView, "Coupons", label=_l("Coupons"), icon="fa-ticket", category="Welfare")
    appbuilder.add_view(ActivityView, "Activities", label=_l("Activities"), icon="fa-bullhorn", category="Welfare")
    appbuilder.add_view(ActivityReviewView, "Activity review", label=_l("Activity review"), icon="fa-check-square-o",
                        category="Welfare")
    appbuilder.add_view(VoucherView, "Vouchers", label=_l("Vouchers"), icon="fa-list", category="Welfare")
    appbuilder.add_view(RedeemView, "Redeem vouchers", label=_l("Redeem vouchers"), icon="fa-qrcode",
                        category="Welfare")
    appbuilder.add_view(StatisticsView, "Statistics", label="统计分析", icon="fa-bar-chart")
    register_mutual_aid_views(appbuilder)
    appbuilder.add_view(ArticleView, "Notices", label="公告与资讯", icon="fa-newspaper-o")
    register_service_card_views(appbuilder)
    register_recuperation_views(appbuilder)
    appbuilder.add_view(AuditLogView, "Audit log", label=_l("Audit log"), icon="fa-history",
                        category="Audit", category_label=_l("Audit"), category_icon="fa-shield")
    appbuilder.add_view_no_menu(AccountView)
    appbuilder.add_api(MemberApi)
    appbuilder.add_api(MeApi)
    appbuilder.add_api(MemberRegistrationApi)
    appbuilder.add_api(MemberVoucherApi)
    appbuilder.add_api(MerchantVoucherApi)
    appbuilder.add_api(WorkerApi)
    appbuilder.add_api(ArticleApi)
    localize_api_tags(appbuilder)
