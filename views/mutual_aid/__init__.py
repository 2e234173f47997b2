"""互助保障 views: registration (public) and its review pool, plans, enrollments (the workspace),
confirmation letters, settlement and invoices, the office's figures, 申领处理 (claims)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .claims import ClaimView
from .enrollments import EnrollmentView
from .info_changes import InfoChangeFirstReviewView, InfoChangeSecondReviewView, InfoChangeView
from .letters import LetterView
from .plans import ProtectionPlanView
from .registration import MemberUnitView, RegistrationView
from .settlement import MutualAidQueueView, SettlementView
from .subsidies import SubsidyApplicationView, SubsidyFirstReviewView, SubsidyPaymentView, SubsidySecondReviewView


def register_mutual_aid_views(appbuilder) -> None:
    appbuilder.add_view_no_menu(RegistrationView)
    category = "MutualAid"
    appbuilder.add_view(MutualAidQueueView, "Mutual aid desk", label=_l("Mutual aid desk"), icon="fa-dashboard",
                        category=category, category_label=_l("Mutual aid"), category_icon="fa-heartbeat")
    appbuilder.add_view(MemberUnitView, "Member units", label=_l("Member units"), icon="fa-building-o",
                        category=category)
    appbuilder.add_view(ProtectionPlanView, "Protection plans", label=_l("Protection plans"), icon="fa-shield",
                        category=category)
    appbuilder.add_view(EnrollmentView, "Enrollments", label=_l("Enrollments"), icon="fa-file-text-o",
                        category=category)
    appbuilder.add_link("New enrollment", href="/enrollmentview/new", label=_l("New enrollment"), icon="fa-plus",
                        category=category)
    appbuilder.add_view(LetterView, "Confirmation letters", label=_l("Confirmation letters"), icon="fa-print",
                        category=category)
    appbuilder.add_view(SettlementView, "Settlement and invoices", label=_l("Settlement and invoices"),
                        icon="fa-calculator", category=category)
    appbuilder.add_view(ClaimView, "Claim work pool", label=_l("Claim work pool"), icon="fa-inbox", category=category)
    for name, href, icon in (("Claim acceptance", "/claims/accept", "fa-plus-square"),
                             ("Claim reviews", "/claims/reviews", "fa-check-square-o"),
                             ("Claim payments", "/claims/payments", "fa-credit-card"),
                             ("Claim query", "/claims/query", "fa-search")):
        appbuilder.add_link(name, href=href, label=_l(name), icon=icon, category=category)
    # worker client (seed 001): the back-office queues
    for view, name, label, icon in (
            (SubsidyFirstReviewView, "Subsidy first review", "补助初核", "fa-check-square-o"),
            (SubsidySecondReviewView, "Subsidy second review", "补助复核", "fa-check-square"),
            (SubsidyPaymentView, "Subsidy payments", "补助打款", "fa-credit-card"),
            (SubsidyApplicationView, "Subsidy applications", "补助申请查询", "fa-search"),
            (InfoChangeFirstReviewView, "Info change first review", "变更初核", "fa-pencil-square-o"),
            (InfoChangeSecondReviewView, "Info change second review", "变更复核", "fa-pencil-square"),
            (InfoChangeView, "Info change requests", "个人信息变更查询", "fa-user")):
        appbuilder.add_view(view, name, label=label, icon=icon, category=category)
