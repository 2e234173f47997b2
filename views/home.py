"""The home page: a to-do list per role, and the figures seed 003 asks unions to watch.

Every card is a ``ListLink``: its number is the row count of the filtered list it opens (same
scope, same filters, same capped count), and it shows only to a user who may open that list and
act on it. Cards follow the grants of ``permissions.yaml``, not role names.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_appbuilder import IndexView, expose
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterGreater, FilterNotEqual

from app.extensions import db
from app.security import ScopeKind, current_user, org_ids_in_scope, scope_kind
from app.services import statistics
from models.audit import AuditEvent
from models.base import DISPLAY_TZ
from models.imports import JobStatus
from models.members import CertStatus
from models.organizations import OrgLevel
from models.vouchers import ActivityRunStatus, ActivityStatus, Voucher, VoucherStatus

from .list_links import ListLink, can, capped, registered_view
from .statistics import activity_chart, certification_pie, daily_chart, laggard_chart

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Card:
    key: str             # stable id (tests, CSS)
    title: str
    link: ListLink
    needs: str = ""      # a permission on the list's view besides can_list (e.g. can_review)
    hint: str = ""
    style: str = "warning"  # to-do cards stand out; overview cards are "default"


def _midnight(days_ago: int = 0) -> str:
    """A Beijing midnight as the lists' date filters take it."""
    day = datetime.now(DISPLAY_TZ).date() - timedelta(days=days_ago)
    return f"{day:%Y-%m-%d} 00:00:00"


def _month_start() -> str:
    return f"{datetime.now(DISPLAY_TZ).date().replace(day=1):%Y-%m-%d} 00:00:00"


def _now() -> str:
    return f"{datetime.now(DISPLAY_TZ):%Y-%m-%d %H:%M:%S}"


def todo_cards() -> list[Card]:
    """What waits for someone, per grant: reviews, corrections, failures, settlement, accounts, alarms."""
    recent = _midnight(6)  # the last 7 Beijing days, today included
    today = _midnight()
    redeemed = ("status", FilterEqual, VoucherStatus.REDEEMED)
    cards = [
        Card("pending-cert", "待审核实名认证", ListLink("MemberView", [("cert_status", FilterEqual, CertStatus.PENDING)]),
             needs="can_review", hint="会员已提交，待本级审核"),
        Card("pending-activities", "待审核活动",
             ListLink("ActivityView", [("status", FilterEqual, ActivityStatus.PENDING)]), needs="can_review"),
        Card("rejected-activities", "被驳回的活动", ListLink("ActivityView", [("status", FilterEqual, ActivityStatus.REJECTED)]),
             needs="can_submit", hint="修改后重新提交审核"),
        Card("draft-activities", "未提交的草稿活动",
             ListLink("ActivityView", [("status", FilterEqual, ActivityStatus.DRAFT)]), needs="can_submit"),
        Card("failed-jobs", "近7天执行失败的采集任务",
             ListLink("DataJobView", [("status", FilterEqual, JobStatus.FAILED), ("created_at", FilterGreater, recent)]),
             needs="can_import", hint="查看原因后重新上传"),
        Card("partial-jobs", "近7天部分成功的采集任务",
             ListLink("DataJobView", [("status", FilterEqual, JobStatus.PARTIAL), ("created_at", FilterGreater, recent)]),
             needs="can_import", hint="下载导出结果，修正失败行后重新导入"),
        Card("redeemed-month", "本月已核销券码（待结算）",
             ListLink("VoucherView", [redeemed, ("redeemed_at", FilterGreater, _month_start())]), needs="can_settle",
             hint="按商家导出结算汇总"),
        Card("locked-users", "已锁定的账户", ListLink("AppUserDBModelView", [("locked_until", FilterGreater, _now())]),
             needs="can_edit", hint="多次输错密码，锁定期内无法登录"),
        Card("inactive-users", "已停用的账户", ListLink("AppUserDBModelView", [("active", FilterNotEqual, "y")]),
             needs="can_edit"),
    ]
    for event in (AuditEvent.LOGIN_FAILED, AuditEvent.LOCKOUT, AuditEvent.PERMISSION_DENIED, AuditEvent.REVEAL,
                  AuditEvent.EXPORT):
        cards.append(Card(f"audit-{event.value}", f"今日{event.label}",
                          ListLink("AuditLogView", [("event", FilterEqual, event.value), ("at", FilterGreater, today)])))
    return cards


def overview_cards(kind: ScopeKind) -> list[Card]:
    """What the user may read in his scope (the auditor's whole home page, a summary for others)."""
    today = _midnight()
    if kind == ScopeKind.OWN_MERCHANT:
        return [
            Card("merchant-coupons", "本商家优惠券", ListLink("CouponView"), style="default"),
            Card("redeemed-today", "今日核销券码",
                 ListLink("VoucherView", [("status", FilterEqual, VoucherStatus.REDEEMED),
                                          ("redeemed_at", FilterGreater, today)]), style="default"),
            Card("redeemed-all", "累计核销券码",
                 ListLink("VoucherView", [("status", FilterEqual, VoucherStatus.REDEEMED)]), style="default"),
        ]
    return [
        Card("members", "会员", ListLink("MemberView"), style="default"),
        Card("units", "单位", ListLink("UnitView"), style="default"),
        Card("open-activities", "进行中的活动",
             ListLink("ActivityView", [("run_status", FilterEqual, ActivityRunStatus.OPEN)]), style="default"),
        Card("redeemed-today", "今日核销券码",
             ListLink("VoucherView", [("status", FilterEqual, VoucherStatus.REDEEMED),
                                      ("redeemed_at", FilterGreater, today)]), style="default"),
        Card("jobs-today", "今日采集任务", ListLink("DataJobView", [("created_at", FilterGreater, today)]),
             style="default"),
    ]


def visible(cards: list[Card]) -> list[dict]:
    """The cards the current user may follow, with their counts."""
    out = []
    for card in cards:
        view = card.link.view
        if not card.link.readable() or (card.needs and not can(view, card.needs)):
            continue
        try:
            count = card.link.count()
        except ValueError:  # the list no longer filters on that column: no card rather than no home page
            log.exception("home card %s skipped", card.key)
            continue
        out.append({"key": card.key, "title": card.title, "count": count, "shown": capped(count),
                    "url": card.link.url(), "hint": card.hint, "style": card.style})
    return out


def figures(user, kind: ScopeKind) -> dict | None:
    """Charts for the home page: certification progress and claims / redemptions of the scope."""
    session = db.session
    if kind == ScopeKind.OWN_MERCHANT and getattr(user, "merchant_id", None):
        days = statistics.daily_claims(session, Voucher.redeemed_merchant_id == user.merchant_id)
        return {"charts": [("merchant-daily", daily_chart(days, claims=False), 300)], "as_of": _now()}
    stats_view = registered_view("StatisticsView")
    org_ids = org_ids_in_scope(user)
    if org_ids is None or not can(stats_view, "can_list"):
        return None
    table = statistics.union_figures(session, org_ids)
    unions = [r for r in table.rows if r.level == OrgLevel.BASE and r.members]
    charts = [("cert-pie", certification_pie(table.total), 300)]
    if len(unions) > 1:  # which unions lag behind: a question for a county or the city
        charts.append(("cert-laggards", laggard_chart(unions), 300))
    charts += [("claims-daily", daily_chart(statistics.daily_claims(session, Voucher.org_id.in_(org_ids))), 300),
               ("claims-activities", activity_chart(statistics.activity_progress(session, org_ids)), 300)]
    return {"charts": charts, "certified_pct": table.total.certified_pct, "members": table.total.members,
            "as_of": _now()}


_FIGURES: dict = {}  # scope -> (expiry, figures): one computation per scope and minute, per process


def cached_figures(user, kind: ScopeKind) -> dict | None:
    """``figures`` of the user's scope, reused for ``HOME_FIGURES_SECONDS``: the grouped counts over a
    million members cost a few hundred milliseconds, the to-do cards (capped counts) stay live."""
    seconds = current_app.config["HOME_FIGURES_SECONDS"]
    key = (kind, user.org_id, getattr(user, "merchant_id", None), frozenset(r.id for r in user.roles))
    now = time.monotonic()
    hit = _FIGURES.get(key)
    if hit and hit[0] > now:
        return hit[1]
    value = figures(user, kind)
    if seconds > 0:
        if len(_FIGURES) > 1000:
            _FIGURES.clear()
        _FIGURES[key] = (now + seconds, value)
    return value


class HomeView(IndexView):
    index_template = "union/index.html"

    @expose("/")
    def index(self):
        user = current_user()
        context = {"todo": [], "overview": [], "figures": None}
        if user is not None:
            kind = scope_kind(user)
            context["todo"] = visible(todo_cards())
            context["overview"] = visible(overview_cards(kind))
            context["figures"] = cached_figures(user, kind)
        return self.render_template(self.index_template, appbuilder=self.appbuilder, **context)

