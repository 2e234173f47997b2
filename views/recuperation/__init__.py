"""疗休养 views: bases and products, the yearly policy, declarations (代为申报, 单位审核, 平台组团),
the bases' daily orders, the insurance roster, consumption, statistics, pending orgs; the member API."""
from __future__ import annotations

from .api import RecuperationApi
from .complaints import ComplaintView
from .catalog import CapacityView, ProductView, RecupBaseView
from .frontline import FrontlineRosterView
from .declarations import DeclarationView, PendingOrgView, TourGroupView
from .orders import ConsumptionView, InsuranceRosterView, ReservationView
from .policy import PolicyView
from .stats import RecupStatsView


def register_recuperation_views(appbuilder) -> None:
    category = "Recuperation"
    add = appbuilder.add_view
    add(DeclarationView, "Recuperation declarations", label="计划申报", icon="fa-suitcase", category=category,
        category_label="疗休养", category_icon="fa-tree")
    add(ReservationView, "Base orders", label="基地每日订单", icon="fa-list-alt", category=category)
    add(ProductView, "Recuperation products", label="疗休养产品", icon="fa-cutlery", category=category)
    add(CapacityView, "Product capacity", label="产品预约情况", icon="fa-bar-chart", category=category)
    add(RecupBaseView, "Recuperation bases", label="疗休养基地", icon="fa-home", category=category)
    add(InsuranceRosterView, "Insurance roster", label="每日保险名单", icon="fa-umbrella", category=category)
    add(ConsumptionView, "Recuperation consumption", label="消费流水", icon="fa-credit-card", category=category)
    add(TourGroupView, "Tour groups", label="平台拼团", icon="fa-bus", category=category)
    add(PolicyView, "Recuperation policy", label="年度疗休养政策", icon="fa-calendar", category=category)
    add(RecupStatsView, "Recuperation statistics", label="疗休养申报统计", icon="fa-pie-chart", category=category)
    add(ComplaintView, "Recuperation complaints", label="疗休养投诉", icon="fa-bullhorn", category=category)
    add(FrontlineRosterView, "Frontline roster", label="一线职工名单", icon="fa-id-badge", category=category)
    add(PendingOrgView, "Pending orgs", label="待核实组织", icon="fa-hourglass-half", category=category)
    appbuilder.add_api(RecuperationApi)
