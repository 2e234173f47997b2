"""办卡批次 (S002:L28–43): a base union's batch with its 基层工会信息汇总表 → 提交 → the county
receives it (交接: counts checked, who, when) or returns it with a reason → 批量开户汇总表 for the bank
(xlsx + PDF) → 移交银行 (cards 开户中) → the bank's result → 已制卡. BATCH_FLOW applied by the
review-flow engine."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.pdf.render import Document
from app.security import org_in_scope, org_scope_clause
from app.services import numbers, review_flow
from app.services.errors import DomainError, NotFoundError
from app.services.exports import ExportField, write_export
from app.validators import ValidationError, validate_uscc
from models.base import DISPLAY_TZ, utcnow
from models.imports import DataJob, JobStatus
from models.members import Gender, IdType, Member, MembershipStatus
from models.organizations import Org, OrgLevel
from models.service_cards import BATCH_FLOW, BatchStatus, CardApplication, CardBatch, CardStatus, ServiceCard

from . import cards
from .coverage import beijing_date, register_members

APPLICATION_KIND = "card_application"
BANK_RESULT_KIND = "card_bank_result"
SUMMARY_KIND = "card_union_summary"


def batch_scope(actor):
    return org_scope_clause(CardBatch.org_id, actor)


def scoped_batch(session: Session, batch_id, actor) -> CardBatch:
    """The batch if it lies in the actor's scope. Raises NotFoundError (→ 404)."""
    try:
        batch_id = int(batch_id)
    except (TypeError, ValueError):
        raise NotFoundError("办卡批次不存在") from None
    batch = session.scalars(select(CardBatch).where(CardBatch.id == batch_id, batch_scope(actor))).first()
    if batch is None:
        raise NotFoundError("办卡批次不存在或不在您的管辖范围内")
    return batch


SUMMARY_FIELDS = ("union_name", "union_code", "union_uscc", "contact", "phone", "address", "declared_count")


def create_batch(session: Session, *, actor, org_id: int | None = None, **summary) -> CardBatch:
    """A new batch (待提交) of a base union in scope, its 基层工会信息汇总表 prefilled from the org.

    Raises:
        NotFoundError (union outside scope), DomainError (not a base union, bad USCC).
    """
    org_id = org_id or getattr(actor, "org_id", None)
    if not org_in_scope(session, org_id, actor):
        raise NotFoundError("工会不存在或不在您的管辖范围内")
    org = session.get(Org, org_id)
    if org.level != OrgLevel.BASE:
        raise DomainError("办卡批次须由基层工会申请")
    values = {"union_name": org.name, "union_code": org.code, "union_uscc": org.uscc, "contact": org.contact,
              "phone": org.phone, "address": org.address}
    values.update({k: v for k, v in summary.items() if k in SUMMARY_FIELDS and v not in (None, "")})
    if values.get("union_uscc"):
        try:
            values["union_uscc"] = validate_uscc(values["union_uscc"])
        except ValidationError as err:
            raise DomainError(str(err), field="union_uscc") from None
    batch = CardBatch(number=numbers.daily_number(session, "BK"), org_id=org.id, status=BatchStatus.DRAFT, **values)
    session.add(batch)
    session.commit()
    return batch


def update_summary(session: Session, batch_id: int, *, actor, id_copies_received: bool | None = None,
                   **summary) -> CardBatch:
    batch = scoped_batch(session, batch_id, actor)
    if batch.status != BatchStatus.DRAFT:
        raise DomainError(f"批次当前为「{batch.status_label}」，不能修改")
    for key, value in summary.items():
        if key in SUMMARY_FIELDS:
            setattr(batch, key, value)
    if id_copies_received is not None:
        batch.id_copies_received = bool(id_copies_received)
    session.commit()
    return batch


def refresh_count(session: Session, batch: CardBatch) -> int:
    batch.member_count = session.scalar(select(func.count()).where(CardApplication.batch_id == batch.id)) or 0
    return batch.member_count


def remove_application(session: Session, batch_id: int, application_id: int, *, actor) -> None:
    batch = scoped_batch(session, batch_id, actor)
    if batch.status != BatchStatus.DRAFT:
        raise DomainError(f"批次当前为「{batch.status_label}」，不能修改")
    line = session.get(CardApplication, application_id)
    if line is None or line.batch_id != batch.id:
        raise NotFoundError("该行不存在")
    session.delete(line)
    session.flush()
    refresh_count(session, batch)
    session.commit()


def _jobs_of(session, batch_id: int, kinds=(APPLICATION_KIND,)):
    """The batch's import jobs, newest first."""
    org_id = session.scalar(select(CardBatch.org_id).where(CardBatch.id == batch_id))
    return [j for j in session.scalars(select(DataJob).where(DataJob.kind.in_(kinds), DataJob.org_id == org_id)
                                       .order_by(DataJob.id.desc()).limit(500))
            if (j.params or {}).get("batch_id") == batch_id]


def submit_batch(session: Session, batch_id: int, *, actor, can=None) -> CardBatch:
    """提交: the pre-validation (the import's checks) has no errors left, ID copies are collected.

    Raises:
        NotFoundError, InvalidTransitionError, DomainError.
    """
    batch = scoped_batch(session, batch_id, actor)
    jobs_ = _jobs_of(session, batch.id)
    if any(j.status in (JobStatus.PENDING, JobStatus.RUNNING) for j in jobs_):
        raise DomainError("会员信息仍在导入预校验中，请稍后再提交")
    if jobs_ and jobs_[0].error_rows:
        raise DomainError(f"最近一次预校验有 {jobs_[0].error_rows} 行未通过，请下载「导出结果」改正后重新导入")
    if not refresh_count(session, batch):
        raise DomainError("批次中还没有会员，请先导入工会会员信息汇总表")
    if not batch.id_copies_received:
        raise DomainError("请先确认已收集职工二代身份证复印件并加盖工会公章")
    review_flow.apply_transition(session, CardBatch, batch.id, "submit", flow=BATCH_FLOW, actor=actor,
                                 status_labels=BatchStatus, scope_clause=batch_scope(actor), can=can)
    batch.submitted_at, batch.submitted_by_id, batch.return_reason = utcnow(), getattr(actor, "id", None), None
    session.commit()
    return batch


def receive_batch(session: Session, batch_id: int, *, actor, counted: int | None, remark: str | None = None,
                  can=None) -> CardBatch:
    """接收 (交接): the counted members must equal the batch's count; who and when are recorded; the
    members still 在会 are registered for the coverage period of the (last) submission date (A-13).

    Raises:
        NotFoundError, InvalidTransitionError, SelfApprovalError, DomainError (counts differ).
    """
    batch = scoped_batch(session, batch_id, actor)
    refresh_count(session, batch)
    if counted is None or counted != batch.member_count:
        raise DomainError(f"清点人数（{counted if counted is not None else '未填'}）与批次人数（{batch.member_count}）"
                          "不符，请核对材料或退回", field="counted")
    review_flow.apply_transition(session, CardBatch, batch.id, "receive", flow=BATCH_FLOW, actor=actor,
                                 reason=remark, status_labels=BatchStatus, scope_clause=batch_scope(actor), can=can)
    batch.received_at, batch.received_by_id = utcnow(), getattr(actor, "id", None)
    batch.counted, batch.handover_remark = counted, (remark or "").strip()[:255] or None
    members = session.execute(select(CardApplication.member_id, Member.org_id)
                              .join(Member, Member.id == CardApplication.member_id)
                              .where(CardApplication.batch_id == batch.id,
                                     Member.status == MembershipStatus.ACTIVE)).all()  # left since: not covered
    register_members(session, [(m, o) for m, o in members], registered_on=beijing_date(batch.submitted_at),
                     batch_id=batch.id)
    session.commit()
    return batch


def return_batch(session: Session, batch_id: int, *, actor, reason: str, can=None) -> CardBatch:
    """退回 with a reason: back to 待提交 for the base union to correct."""
    batch = scoped_batch(session, batch_id, actor)
    review_flow.apply_transition(session, CardBatch, batch.id, "return", flow=BATCH_FLOW, actor=actor,
                                 reason=reason, status_labels=BatchStatus, scope_clause=batch_scope(actor), can=can)
    batch.return_reason = reason.strip()[:255]
    session.commit()
    return batch


def hand_over_to_bank(session: Session, batch_id: int, *, actor, can=None) -> CardBatch:
    """移交银行: every line gets a card 开户中 (same member number); who and when are recorded. A member
    whose membership ended since the submission gets his card 已注销 at once (the bank's line for him is
    refused), so the batch still completes."""
    batch = scoped_batch(session, batch_id, actor)
    review_flow.apply_transition(session, CardBatch, batch.id, "hand_over", flow=BATCH_FLOW, actor=actor,
                                 status_labels=BatchStatus, scope_clause=batch_scope(actor), can=can)
    members = session.scalars(select(Member).join(CardApplication, CardApplication.member_id == Member.id)
                              .where(CardApplication.batch_id == batch.id)).all()
    cards.create_cards(session, [(m, batch.id) for m in members])
    session.flush()
    for status in cards.ENDED_MEMBERSHIP:  # left since the submission: the card is cancelled at once
        cards.end_membership(session, [m.id for m in members if m.status == status], status=status, actor=actor)
    batch.bank_at, batch.bank_by_id = utcnow(), getattr(actor, "id", None)
    session.commit()
    return batch


def finish_if_issued(session: Session, batch: CardBatch, actor) -> bool:
    """已制卡 once no card of the batch waits for the bank (no commit)."""
    waiting = session.scalar(select(func.count()).where(ServiceCard.batch_id == batch.id,
                                                        ServiceCard.status == CardStatus.OPENING))
    if waiting or batch.status != BatchStatus.OPENING:
        return False
    review_flow.apply_transition(session, CardBatch, batch.id, "issue", flow=BATCH_FLOW, actor=actor,
                                 status_labels=BatchStatus)
    return True


# --- 批量开户汇总表 (S002:L42) ----------------------------------------------------------
SUMMARY_HEADERS = ["序号", "姓名", "性别", "证件类型", "证件号码", "出生日期", "手机", "会员编号", "所属工会"]


def summary_rows(session: Session, batch: CardBatch):
    """The bank needs the full ID numbers and phones to open the accounts (not masked)."""
    stmt = (select(CardApplication.name, CardApplication.gender, CardApplication.id_type, CardApplication.id_number,
                   CardApplication.birth_date, CardApplication.phone, CardApplication.member_no)
            .where(CardApplication.batch_id == batch.id).order_by(CardApplication.id))
    for n, (name, gender, id_type, number, birth, phone, member_no) in enumerate(
            session.execute(stmt.execution_options(yield_per=5000)), 1):
        yield [n, name, Gender.label_of(gender), IdType.label_of(id_type), number,
               birth.isoformat() if birth else "", phone, member_no, batch.union_name]


def _district_name(session, batch) -> str:
    district = cards.district_of(batch.org)
    return district.name if district else batch.union_name


def summary_header(session, batch, actor) -> list[tuple[str, object]]:
    return [("区县局(产业)工会", _district_name(session, batch)), ("基层工会", batch.union_name),
            ("批次编号", batch.number), ("会员人数", batch.member_count),
            ("日期", datetime.now(DISPLAY_TZ).strftime("%Y-%m-%d")),
            ("经办人", getattr(actor, "username", "") or "")]


def summary_xlsx(session: Session, batch: CardBatch, path, *, actor) -> int:
    """The 批量开户汇总表 as xlsx through the one export writer; returns the row count."""
    fields = [ExportField(h, None) for h in SUMMARY_HEADERS]
    return write_export(path, "批量开户汇总表", fields, summary_rows(session, batch))


def summary_pdf(session: Session, batch: CardBatch, *, actor) -> bytes:
    """The 批量开户汇总表 as a Chinese PDF: header, rows, signature boxes."""
    doc = Document("上海工会会员服务卡批量开户汇总表", footer=f"批次 {batch.number}")
    doc.heading("上海工会会员服务卡批量开户汇总表").key_values(summary_header(session, batch, actor))
    doc.space().table(SUMMARY_HEADERS, list(summary_rows(session, batch)),
                      [9, 16, 8, 20, 34, 18, 22, 20, 33], size=7)
    doc.space().key_values([("区县局(产业)工会经办人签字", ""), ("银行经办人签字", ""), ("交接日期", "")])
    doc.box("工会盖章")
    return doc.render()


def visible_batches(session: Session, actor):
    return select(CardBatch).where(batch_scope(actor))
