"""确认书 (S004:L78–118): versions of an effective enrollment's letter (PDF with the person list as
annex), the person list (search, xlsx), 「我已确认人员名单无误」 gating 打印确认书, 刷新 (a new version;
old ones kept). 刷新计划书 and 确认书 are the same document (A-27)."""
from __future__ import annotations

from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.masking import mask_id_number
from app.pdf.render import Document
from app.rmb import rmb_upper
from app.services import attachments, audit
from app.services.errors import DomainError
from models.audit import AuditEvent
from models.base import DISPLAY_TZ, utcnow
from models.mutual_aid import ConfirmationLetter, Enrollment, EnrollmentStatus, InsuredPerson, PersonStatus

from .enrollment import line_figures, scoped_enrollment
from .plans import money

LETTER = "letter"  # attachment kind
LIST_HEADERS = ["序号", "姓名", "证件号码", "人群类别", "保障活动", "份数", "保障期"]


def current_letter(session: Session, enrollment: Enrollment) -> ConfirmationLetter | None:
    return session.scalar(select(ConfirmationLetter).where(ConfirmationLetter.enrollment_id == enrollment.id)
                          .order_by(ConfirmationLetter.version.desc()).limit(1))


def letters_of(session: Session, enrollment: Enrollment) -> list[ConfirmationLetter]:
    return list(session.scalars(select(ConfirmationLetter).where(ConfirmationLetter.enrollment_id == enrollment.id)
                                .order_by(ConfirmationLetter.version.desc())))


def person_rows(session: Session, enrollment: Enrollment, *, q: str | None = None, masked: bool = True):
    """The letter's person list: (序号, 姓名, 证件号码 masked, 人群类别, 活动, 份数, 保障期)."""
    from .persons import persons_query

    names = {line.id: (line.plan.name, line.shares) for line in enrollment.plans}
    stmt = persons_query(enrollment, q=q).execution_options(yield_per=2000)
    for index, person in enumerate(session.scalars(stmt), start=1):
        plan, shares = names.get(person.enrollment_plan_id, ("", 0))
        period = (f"{person.coverage_start:%Y-%m-%d}至{person.coverage_end:%Y-%m-%d}"
                  if person.coverage_start and person.coverage_end else "")
        yield [index, person.name, mask_id_number(person.id_number) if masked else person.id_number,
               person.risk_group_label, plan, shares, period]


def letter_document(session: Session, enrollment: Enrollment, version: int, *, printed_at=None) -> Document:
    """The letter's content (proposal of §3.1.6): number, unit and USCC, plans with shares, persons
    normal / high-risk, unit prices, amounts, total in figures and 大写, coverage, payment date,
    print date, version, a seal box; the person list as annex."""
    unit = enrollment.member_unit
    doc = Document(f"参保确认书 {enrollment.number}", footer=f"参保确认书 {enrollment.number} 第{version}版",
                   font_path=current_app.config["PDF_FONT"], font_index=current_app.config["PDF_FONT_INDEX"])
    doc.heading("职工互助保障参保确认书")
    when = (printed_at or utcnow()).astimezone(DISPLAY_TZ)
    doc.key_values([
        ("参保单号", enrollment.number), ("版本", f"第{version}版"), ("单位名称", unit.name),
        ("统一社会信用代码", unit.uscc), ("联系人", unit.contact_name), ("所属办事处", enrollment.org.name),
        ("在职职工人数", f"{enrollment.staff_count or 0} 人（其中女职工 {enrollment.female_staff_count or 0} 人）"),
        ("保障期间", f"{enrollment.coverage_start:%Y年%m月%d日} 至 {enrollment.coverage_end:%Y年%m月%d日}"
         if enrollment.coverage_start else "到账确认后生效"),
        ("到账日期", f"{enrollment.paid_on:%Y年%m月%d日}" if enrollment.paid_on else ""),
        ("打印日期", f"{when:%Y年%m月%d日}"),
    ])
    rows, total = [], Decimal(0)
    for figure in line_figures(session, enrollment):
        plan = figure.line.plan
        total += figure.amount
        rows.append([plan.name, figure.line.shares, figure.normal, figure.high, money(plan.price),
                     money(plan.price_high) if plan.price_high is not None else "—", money(figure.amount)])
    doc.table(["保障活动", "份数", "普通人数", "高危人数", "会费单价", "高危单价", "金额（元）"], rows,
              [52, 14, 20, 20, 22, 22, 30], size=9, aligns="LCRRRRR")
    doc.key_values([("合计金额（小写）", f"¥{money(total)} 元"), ("合计金额（大写）", rmb_upper(total))])
    doc.paragraph("本单位确认上述参保信息及所附参保人员清单真实、准确、完整，并按约定缴纳互助会费。"
                  "保障责任以互助保障活动条款为准。")
    doc.box("单位盖章：", height=32)
    doc.page_break().heading("附件：参保人员清单", size=14)
    doc.table(LIST_HEADERS, list(person_rows(session, enrollment)), [12, 24, 40, 18, 40, 12, 34], size=8,
              aligns="RLLCLRL")
    return doc


def generate_letter(session: Session, enrollment: Enrollment, *, actor=None) -> ConfirmationLetter:
    """The next version of the letter from the current data, stored as a PDF (no commit)."""
    if enrollment.status != EnrollmentStatus.EFFECTIVE:
        raise DomainError("参保单生效后才能生成确认书", code="not_effective")
    version = (session.scalar(select(func.max(ConfirmationLetter.version))
                              .where(ConfirmationLetter.enrollment_id == enrollment.id)) or 0) + 1
    data = letter_document(session, enrollment, version).render()
    letter = ConfirmationLetter(enrollment_id=enrollment.id, version=version,
                                generated_by_id=getattr(actor, "id", None))
    session.add(letter)
    session.flush()
    pdf = attachments.add_generated(session, owner=letter, kind=LETTER, mime="application/pdf", data=data,
                                    file_name=f"参保确认书_{enrollment.number}_第{version}版.pdf", actor=actor)
    letter.attachment_id = pdf.id
    return letter


def _effective(session: Session, enrollment_id: int, actor) -> tuple[Enrollment, ConfirmationLetter]:
    enrollment = scoped_enrollment(session, enrollment_id, actor, lock=True)
    letter = current_letter(session, enrollment) if enrollment.status == EnrollmentStatus.EFFECTIVE else None
    if letter is None:
        raise DomainError("该参保单尚未生效，没有确认书", code="not_effective")
    return enrollment, letter


def confirm_person_list(session: Session, enrollment_id: int, *, actor) -> ConfirmationLetter:
    """「我已确认人员名单无误」, recorded with user and time on the current version. Commits."""
    enrollment, letter = _effective(session, enrollment_id, actor)
    if letter.list_confirmed_at is None:
        letter.list_confirmed_at, letter.list_confirmed_by_id = utcnow(), getattr(actor, "id", None)
        audit.record(session, AuditEvent.ACTION, actor=actor, target_type="enrollment", target_id=enrollment.id,
                     summary=f"确认人员名单无误（确认书第{letter.version}版）")
    session.commit()
    return letter


def print_letter(session: Session, enrollment_id: int, *, actor, confirmed: bool):
    """打印确认书: only with the list confirmed (the checkbox, R-6); the letter moves to 已打印.
    Returns the PDF attachment. Commits.

    Raises:
        DomainError ``list_not_confirmed``.
    """
    if confirmed:
        confirm_person_list(session, enrollment_id, actor=actor)
    enrollment, letter = _effective(session, enrollment_id, actor)
    if letter.list_confirmed_at is None:
        raise DomainError("请先勾选「我已确认人员名单无误」再打印确认书", code="list_not_confirmed")
    if not letter.printed:
        letter.printed, letter.first_printed_at, letter.first_printed_by_id = True, utcnow(), getattr(actor, "id", None)
    audit.record(session, AuditEvent.EXPORT, actor=actor, target_type="enrollment", target_id=enrollment.id,
                 summary=f"打印确认书第{letter.version}版")
    session.commit()
    return attachments.owned_attachment(session, letter, letter.attachment_id)


def refresh_letter(session: Session, enrollment_id: int, *, actor) -> ConfirmationLetter:
    """刷新计划书: a new version from the current data (未打印, list to confirm again); old kept. Commits."""
    enrollment, _old = _effective(session, enrollment_id, actor)
    letter = generate_letter(session, enrollment, actor=actor)
    audit.record(session, AuditEvent.ACTION, actor=actor, target_type="enrollment", target_id=enrollment.id,
                 summary=f"刷新确认书，生成第{letter.version}版")
    session.commit()
    return letter


def letter_file(session: Session, enrollment_id: int, version: int, *, actor):
    """The PDF of one version (old versions stay downloadable)."""
    enrollment = scoped_enrollment(session, enrollment_id, actor)
    letter = session.scalar(select(ConfirmationLetter).where(ConfirmationLetter.enrollment_id == enrollment.id,
                                                             ConfirmationLetter.version == version))
    if letter is None:
        raise DomainError("该版本的确认书不存在", code="not_found")
    return attachments.owned_attachment(session, letter, letter.attachment_id)


def active_person_count(session: Session, enrollment: Enrollment) -> int:
    return session.scalar(select(func.count(InsuredPerson.id)).where(
        InsuredPerson.enrollment_id == enrollment.id, InsuredPerson.status == PersonStatus.ACTIVE)) or 0
