"""参保人员清单: the import kind ``enrollment_persons`` with parameters (enrollment, plan line) —
template per plan, a pure row parser (R-2), a bulk upsert on (plan line, ID number) — and the
person list queries (人员详情, the letter's list)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app.database import fast_insert, in_many
from app.services import imports
from app.services.errors import DomainError, NotFoundError
from app.validators import ValidationError, parse_resident_id, validate_chinese_name, validate_mobile
from app.xlsx.cells import CellError, date_value, id_text, text
from app.xlsx.writer import Column, SheetSpec
from models.base import utcnow
from models.members import Gender, IdType, Member
from models.mutual_aid import (
    CoverageMode,
    Enrollment,
    EnrollmentPlan,
    EnrollmentStatus,
    InsuredPerson,
    MemberUnit,
    PersonStatus,
    RiskGroup,
)

from .enrollment import _today, scoped_enrollment

KIND = "enrollment_persons"
COLUMNS = [
    Column("seq", "序号", width=8),
    Column("name", "姓名", required=True, note="与证件一致"),
    Column("id_type", "证件类型", choices=[t.label for t in IdType], note="留空视为居民身份证"),
    Column("id_number", "证件号码", required=True, text=True, width=22, note="居民身份证按 GB 11643 校验"),
    Column("mobile", "手机号", required=True, text=True, note="11位手机号"),
    Column("risk_group", "人群类别", choices=[g.label for g in RiskGroup], note="有高危单价的活动必填：普通 / 高危"),
    Column("gender", "性别", choices=[g.label for g in Gender], note="居民身份证可不填，按号码自动生成"),
    Column("birth_date", "出生日期", note="居民身份证可不填；格式 1990-01-31"),
    Column("si_type", "社保类型", note="如 城镇职工基本医疗保险"),
    Column("si_no", "社保卡号", text=True),
    Column("remark", "备注"),
]
SHEET = SheetSpec("参保人员清单", COLUMNS, instructions=[
    "每个保障活动单独导入一份人员清单；同一参保单内以证件号码识别同一人：再次导入时更新，不会重复。",
    "人群类别：保障活动设有高危会费单价时须填写“普通”或“高危”；否则留空即为普通。",
    "导入后可在参保单页面查看结果；未通过校验的人员可点击「导入失败人员下载」，改正后重新上传。",
])
_ID_TYPES = {t.label: t.value for t in IdType}
_GENDERS = {g.label: g.value for g in Gender}
_GROUPS = {g.label: g.value for g in RiskGroup}


@dataclass
class PersonImportContext:
    """What the parser needs, looked up once per job (pure data)."""

    enrollment_id: int
    line_id: int
    plan_id: int
    plan_name: str
    has_high_risk: bool
    female_only: bool
    min_age: int | None
    max_age: int | None
    reference_day: date          # ages are counted on this day
    coverage_from: date          # the presumptive coverage start (overlap checks, R-2)
    seen: dict[str, int] = field(default_factory=dict)


def check_params(session: Session, actor, params: dict) -> dict:
    """The enrollment in the actor's scope, still editable, and one of its plan lines.

    Raises:
        NotFoundError, DomainError.
    """
    try:
        enrollment_id, line_id = int(params.get("enrollment_id")), int(params.get("line_id"))
    except (TypeError, ValueError):
        raise NotFoundError("参保单或保障活动不存在") from None
    enrollment = scoped_enrollment(session, enrollment_id, actor)
    if not enrollment.editable:
        raise DomainError(f"参保单当前为「{enrollment.status_label}」，不能导入人员", code="not_editable")
    if line_id not in {line.id for line in enrollment.plans}:
        raise NotFoundError("该参保单没有所选保障活动")
    return {"enrollment_id": enrollment_id, "line_id": line_id}


def make_context(session: Session, job, actor) -> PersonImportContext:
    params = job.params or {}
    line = session.get(EnrollmentPlan, int(params.get("line_id") or 0))
    if line is None or line.enrollment_id != params.get("enrollment_id"):
        raise DomainError("参保单或保障活动已不存在")
    if not line.enrollment.editable:
        raise DomainError(f"参保单当前为「{line.enrollment.status_label}」，不能导入人员")
    plan, today = line.plan, _today().date()
    start = plan.coverage_start if plan.coverage_mode == CoverageMode.FIXED and plan.coverage_start else today
    return PersonImportContext(enrollment_id=line.enrollment_id, line_id=line.id, plan_id=plan.id, plan_name=plan.name,
                               has_high_risk=plan.has_high_risk, female_only=plan.eligible_gender == "female",
                               min_age=plan.min_age, max_age=plan.max_age, reference_day=today, coverage_from=start)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def parse_row(cells: dict, ctx: PersonImportContext) -> tuple[dict | None, dict]:
    """One sheet row → a person record, or the reasons per column (R-2). Pure."""
    errors: dict[str, str] = {}
    raw_type = text(cells.get("id_type"))
    id_type = _ID_TYPES.get(raw_type, IdType.RESIDENT.value if not raw_type else None)
    if id_type is None:
        errors["id_type"] = f"「{raw_type}」不是可选值（{'、'.join(_ID_TYPES)}）"
        id_type = IdType.RESIDENT.value
    resident = id_type == IdType.RESIDENT
    record = {"id_type": id_type}
    name = text(cells.get("name"))
    try:
        record["name"] = validate_chinese_name(name.replace(" ", "")) if resident else name
        if not record["name"]:
            raise ValidationError("姓名不能为空")
    except ValidationError as err:
        errors["name"] = str(err)
    raw_gender = text(cells.get("gender"))
    gender = _GENDERS.get(raw_gender) if raw_gender else None
    if raw_gender and gender is None:
        errors["gender"] = "性别须为“男”或“女”"
    try:
        birth = date_value(cells.get("birth_date"))
    except CellError as err:
        errors["birth_date"], birth = str(err), None
    try:
        number = id_text(cells.get("id_number"))
        if not number:
            raise ValidationError("证件号码不能为空")
        if resident:
            rid = parse_resident_id(number)
            number = rid.number
            if gender and gender != rid.gender:
                errors["gender"] = f"性别与身份证号不符（号码显示为{Gender(rid.gender).label}）"
            if birth and birth != rid.birth_date:
                errors["birth_date"] = f"出生日期与身份证号不符（号码显示为{rid.birth_date:%Y-%m-%d}）"
            gender, birth = rid.gender, rid.birth_date
        else:
            number = number.upper()
        record["id_number"] = number
    except (ValidationError, CellError) as err:
        errors["id_number"] = str(err)
    record["gender"], record["birth_date"] = gender, birth
    try:
        record["mobile"] = validate_mobile(text(cells.get("mobile")))
    except ValidationError as err:
        errors["mobile"] = "请填写手机号" if not text(cells.get("mobile")) else str(err)
    raw_group = text(cells.get("risk_group"))
    group = _GROUPS.get(raw_group) if raw_group else (None if ctx.has_high_risk else RiskGroup.NORMAL.value)
    if group is None:
        errors["risk_group"] = ("请填写人群类别（普通 / 高危）" if not raw_group
                                else f"「{raw_group}」不是可选值（普通、高危）")
    elif group == RiskGroup.HIGH and not ctx.has_high_risk:
        errors["risk_group"] = f"「{ctx.plan_name}」没有高危会费单价，人群类别只能为普通"
    record["risk_group"] = group
    if ctx.female_only and gender and gender != Gender.FEMALE:
        errors["gender" if "gender" not in errors else "id_number"] = f"「{ctx.plan_name}」仅限女职工参保"
    if birth and (ctx.min_age is not None or ctx.max_age is not None) and "id_number" not in errors:
        age = _age(birth, ctx.reference_day)
        if (ctx.min_age is not None and age < ctx.min_age) or (ctx.max_age is not None and age > ctx.max_age):
            errors["birth_date"] = f"年龄{age}岁，不在「{ctx.plan_name}」的参保年龄范围内"
    record["social_insurance_type"] = text(cells.get("si_type"))[:30] or None
    record["social_insurance_no"] = text(cells.get("si_no"))[:40] or None
    record["remark"] = text(cells.get("remark"))[:255] or None
    number = record.get("id_number")
    if number and "id_number" not in errors:
        row_no = cells.get("_row_no", 0)
        first = ctx.seen.setdefault(number, row_no)
        if first != row_no:
            errors["id_number"] = f"与本文件第{first}行的证件号码重复"
    return (None, errors) if errors else (record, {})


_UPDATED = ("name", "id_type", "mobile", "gender", "birth_date", "risk_group", "social_insurance_type",
            "social_insurance_no", "remark")


def write_batch(session: Session, rows: list, ctx: PersonImportContext, actor) -> tuple[int, int, list]:
    """Upsert on (plan line, ID number); refuse persons already covered by another unit's effective
    enrollment of the same plan in an overlapping period (R-2); link persons to members."""
    table = InsuredPerson.__table__
    numbers = [record["id_number"] for _row, record in rows]
    existing = dict(session.execute(select(table.c.id_number, table.c.id).where(
        table.c.enrollment_plan_id == ctx.line_id, in_many(session, table.c.id_number, numbers))).all())
    covered = {n: (unit, end) for n, unit, end in session.execute(
        select(table.c.id_number, MemberUnit.name, table.c.coverage_end)
        .join(Enrollment, Enrollment.id == table.c.enrollment_id)
        .join(MemberUnit, MemberUnit.id == Enrollment.member_unit_id)
        .where(table.c.plan_id == ctx.plan_id, table.c.status == PersonStatus.ACTIVE,
               Enrollment.status == EnrollmentStatus.EFFECTIVE, Enrollment.id != ctx.enrollment_id,
               table.c.coverage_end >= ctx.coverage_from, in_many(session, table.c.id_number, numbers)))}
    members = dict(session.execute(select(Member.id_number, Member.id).where(
        in_many(session, Member.id_number, numbers))).all())
    inserts, updates, errors = [], [], []
    now = utcnow()
    for row_no, record in rows:
        number = record["id_number"]
        if number in covered:
            unit, end = covered[number]
            errors.append((row_no, {"id_number": f"该人员已在「{unit}」参保，保障期至 {end:%Y-%m-%d}"}))
            continue
        if number in existing:
            updates.append({"b_id": existing[number], **{k: record[k] for k in _UPDATED}})
            continue
        inserts.append({**record, "enrollment_plan_id": ctx.line_id, "enrollment_id": ctx.enrollment_id,
                        "plan_id": ctx.plan_id, "status": PersonStatus.ACTIVE.value, "coverage_start": None,
                        "coverage_end": None, "transferred_from_id": None, "member_id": members.get(number),
                        "created_at": now})
    if inserts:
        fast_insert(session, table, inserts)
    if updates:
        session.execute(update(table).where(table.c.id == bindparam("b_id"))
                        .values({k: bindparam(k) for k in _UPDATED}), updates)
    return len(inserts), len(updates), errors


PERSON_IMPORT = imports.register(imports.ImportKind(
    key=KIND, label="参保人员清单导入", sheet=SHEET, make_context=make_context, parse_row=parse_row,
    write_batch=write_batch, view_name="EnrollmentView", permission="can_import",
    check_params=check_params,
))


def submit_person_list(session: Session, enrollment_id: int, line_id: int, *, actor, file_name: str, stream):
    """人员清单导入 of one plan line: the job (its result file = 导入失败人员下载). Commits.

    Raises:
        NotFoundError, DomainError (not editable, file refused).
    """
    enrollment = scoped_enrollment(session, enrollment_id, actor)
    return imports.submit_import(session, actor=actor, kind_key=KIND, file_name=file_name, stream=stream,
                                 params={"enrollment_id": enrollment_id, "line_id": line_id},
                                 org_id=enrollment.org_id)


def last_jobs(session: Session, enrollment: Enrollment) -> dict:
    """The latest person-list job per plan line of the enrollment."""
    from models.imports import DataJob

    jobs = session.scalars(select(DataJob).where(DataJob.kind == KIND, DataJob.org_id == enrollment.org_id)
                           .order_by(DataJob.id.desc()).limit(200)).all()
    out = {}
    for job in jobs:
        params = job.params or {}
        if params.get("enrollment_id") == enrollment.id and params.get("line_id") not in out:
            out[params.get("line_id")] = job
    return out


def scoped_job(session: Session, enrollment: Enrollment, job_id: int):
    from models.imports import DataJob

    job = session.get(DataJob, job_id)
    if job is None or job.kind != KIND or (job.params or {}).get("enrollment_id") != enrollment.id:
        raise NotFoundError("导入任务不存在")
    return job


def persons_query(enrollment: Enrollment, *, line_id: int | None = None, q: str | None = None):
    """The active persons of an enrollment (a plan line), searched by name or ID-number tail."""
    stmt = select(InsuredPerson).where(InsuredPerson.enrollment_id == enrollment.id,
                                       InsuredPerson.status == PersonStatus.ACTIVE)
    if line_id:
        stmt = stmt.where(InsuredPerson.enrollment_plan_id == line_id)
    q = (q or "").strip()
    if q:
        stmt = stmt.where(InsuredPerson.name.contains(q, autoescape=True)
                          | InsuredPerson.id_number.endswith(q.upper(), autoescape=True))
    return stmt.order_by(InsuredPerson.enrollment_plan_id, InsuredPerson.id)
