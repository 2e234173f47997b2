"""申领案件 services: acceptance, materials, the work pool, fee entry and 申领计算, every edge of the
claim state machine and every refusal (the (state, action) table), payments."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.services import review_flow
from app.services.errors import DomainError, InvalidTransitionError, NotFoundError, SelfApprovalError
from app.services.mutual_aid import claims, payments
from models.mutual_aid import CLAIM_FLOW, Claim, ClaimAction, ClaimStatus
from models.review import ReviewTrail
from tests.factories import county, licence_png, make_user

from .claims_env import env  # noqa: F401  (fixture)

D = Decimal


# --- 申领受理 ---------------------------------------------------------------------------
def test_claimable_lists_the_plans_kinds_for_the_id_number(env):
    options = claims.claimable(env.ctx, env.people[0].id_number, env.staff, incident_date=env.today)
    assert [o["kind"] for o in options] == ["疾病住院", "意外住院", "重大疾病", "意外伤残", "意外身故"]
    assert options[0]["materials_first"] and not options[2]["materials_first"]
    assert options[0]["id_number_masked"].count("*") == 11


def test_claimable_refuses_outside_coverage_and_unknown_and_malformed(env):
    with pytest.raises(DomainError, match="无可受理的申领类型"):
        claims.claimable(env.ctx, env.people[0].id_number, env.staff, incident_date=env.today + timedelta(days=400))
    with pytest.raises(DomainError, match="无可受理的申领类型"):
        claims.claimable(env.ctx, "110101199003070028", env.staff)
    with pytest.raises(DomainError, match="证件号码格式不正确"):
        claims.claimable(env.ctx, "<script>", env.staff)
    with pytest.raises(DomainError, match="请输入"):
        claims.claimable(env.ctx, "  ", env.staff)


def test_claimable_of_another_county_is_empty(env):
    other = make_user(env.ctx, "办事处业务人员", county(env.ctx, 1))
    with pytest.raises(DomainError, match="无可受理的申领类型"):
        claims.claimable(env.ctx, env.people[0].id_number, other)


def test_accept_hospital_kinds_go_to_materials_others_to_fee_entry_several_persons(env):
    kinds = {k: env.kind(k).id for k in ("疾病住院", "重大疾病")}
    made = claims.accept_claims(env.ctx, [(env.people[0].id, kinds["疾病住院"]), (env.people[0].id, kinds["重大疾病"]),
                                          (env.people[1].id, kinds["重大疾病"])], env.staff,
                                incident_date=env.today)
    assert [c.status for c in made] == [ClaimStatus.MATERIALS, ClaimStatus.FEE_ENTRY, ClaimStatus.FEE_ENTRY]
    assert made[0].group_ref == made[1].group_ref == made[0].number != made[2].group_ref
    assert all(c.number.startswith("SL") and c.handler_id is None for c in made)


def test_accept_refuses_an_open_case_of_the_same_kind_and_empty_list(env):
    env.accept("重大疾病")
    with pytest.raises(DomainError, match="已有未结案的「重大疾病」案件"):
        env.accept("重大疾病")
    with pytest.raises(DomainError, match="请先查询并勾选"):
        claims.accept_claims(env.ctx, [], env.staff)
    with pytest.raises(DomainError, match="确认受理列表不正确"):
        claims.accept_claims(env.ctx, [("x", "y")], env.staff)


def test_unit_handler_accepts_for_his_own_unit(env):
    claim = env.accept("重大疾病", actor=env.unit_handler)
    assert claim.member_unit_id == env.unit.id


# --- 材料上传 ---------------------------------------------------------------------------
def test_materials_complete_moves_to_fee_entry_only_when_every_type_has_a_file(env):
    claim = env.accept("疾病住院")
    assert claims.missing_materials(env.ctx, claim) == ["身份证明", "住院结算单", "出院小结"]
    claims.upload_material(env.ctx, claim.id, env.staff, material_type="身份证明", file_name="a.png", data=licence_png())
    assert claim.status == ClaimStatus.MATERIALS
    env.upload_all(claim)
    assert claim.status == ClaimStatus.FEE_ENTRY
    trail = env.ctx.scalars(select(ReviewTrail.action).where(ReviewTrail.entity == "claim",
                                                             ReviewTrail.entity_id == claim.id)).all()
    assert trail == ["accept", "complete_materials"]


def test_material_of_a_wrong_type_or_not_a_picture_refused(env):
    claim = env.accept("疾病住院")
    with pytest.raises(DomainError, match="不是该申领类型的材料"):
        claims.upload_material(env.ctx, claim.id, env.staff, material_type="户口本", file_name="a.png",
                               data=licence_png())
    with pytest.raises(DomainError):
        claims.upload_material(env.ctx, claim.id, env.staff, material_type="身份证明", file_name="a.png",
                               data=b"not a picture")


# --- 删除 -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["疾病住院", "重大疾病"])
def test_delete_before_fee_entry_with_second_confirmation(env, kind):
    claim = env.accept(kind)
    with pytest.raises(DomainError, match="须再次确认"):
        claims.delete_claim(env.ctx, claim.id, env.staff, confirmed=False)
    claims.delete_claim(env.ctx, claim.id, env.staff, confirmed=True)
    assert claim.status == ClaimStatus.DELETED and claim.deleted_at is not None


def test_delete_refused_after_a_submission(env):
    claim = env.drive(env.accept("重大疾病"), "first_review")
    claims.review_claim(env.ctx, claim.id, "return", env.reviewer1, reason="收款人信息不全")
    assert claim.status == ClaimStatus.FEE_ENTRY
    with pytest.raises(DomainError, match="已提交过，不能删除"):
        claims.delete_claim(env.ctx, claim.id, env.staff, confirmed=True)


# --- 工作池 ----------------------------------------------------------------------------
def test_take_release_reassign(env):
    a, b = env.accept("重大疾病", 0), env.accept("重大疾病", 1)
    assert [c.id for c in claims.pool(env.ctx, env.staff, mine=False)][-2:] == [a.id, b.id]
    assert claims.take_claims(env.ctx, [a.id, b.id], env.staff) == [a.id, b.id]
    assert claims.take_claims(env.ctx, [a.id], env.staff2) == []  # already taken
    assert {c.id for c in claims.pool(env.ctx, env.staff, mine=True)} >= {a.id, b.id}
    assert claims.release_claims(env.ctx, [a.id], env.staff2) == []  # not his
    assert claims.release_claims(env.ctx, [a.id], env.staff) == [a.id]
    env.ctx.refresh(a)
    assert a.handler_id is None
    assert claims.reassign_claims(env.ctx, [b.id], env.staff2, env.staff) == [b.id]
    env.ctx.refresh(b)
    assert b.handler_id == env.staff2.id
    assert claims.release_claims(env.ctx, [b.id], env.staff, supervisor=True) == [b.id]


def test_take_ignores_cases_in_materials_and_out_of_scope(env):
    claim = env.accept("疾病住院")
    assert claims.take_claims(env.ctx, [claim.id], env.staff) == []
    other = make_user(env.ctx, "办事处业务人员", county(env.ctx, 1))
    env.upload_all(claim)
    assert claims.take_claims(env.ctx, [claim.id], other) == []


def test_reassign_to_someone_outside_the_scope_refused(env):
    claim = env.accept("重大疾病")
    other = make_user(env.ctx, "办事处业务人员", county(env.ctx, 1))
    with pytest.raises(DomainError, match="本辖区内的经办人"):
        claims.reassign_claims(env.ctx, [claim.id], other, env.staff)


def test_fee_entry_only_by_the_handler_who_took_it(env):
    claim = env.accept("重大疾病")
    with pytest.raises(DomainError, match="请先获取"):
        claims.save_fee_entry(env.ctx, claim.id, env.staff, {})
    claims.take_claims(env.ctx, [claim.id], env.staff)
    with pytest.raises(DomainError, match="请先获取"):
        claims.calculate_claim(env.ctx, claim.id, env.staff2)


# --- 费用录入 and 申领计算 -------------------------------------------------------------------
def test_c1_worked_example_through_the_service(env):
    claim = env.fill(env.accept("疾病住院"))
    assert claim.amount == D("8323.04") and claim.rule_version == 1
    assert claim.sheets[0].days == 8


def test_base_defaults_to_total_less_reimbursements(env):
    claim = env.accept("疾病住院")
    env.fill(claim, calculate=False, base="")
    sheet = claim.sheets[0]
    assert sheet.policy_self_paid is None and sheet.base == D("56308.05")


def test_bank_card_luhn_refused_and_masked(env):
    claim = env.accept("重大疾病")
    claims.take_claims(env.ctx, [claim.id], env.staff)
    with pytest.raises(DomainError, match="校验不通过"):
        claims.save_fee_entry(env.ctx, claim.id, env.staff, {"payee_account": "6222021234567890121"})
    claims.save_fee_entry(env.ctx, claim.id, env.staff, {"payee_account": "6222021234567890123",
                                                          "payee_account_type": "passbook"})
    assert claim.payee_warning and claim.payee_account_masked == "6222***********0123"
    claims.save_fee_entry(env.ctx, claim.id, env.staff, {"payee_name": "张三", "payee_account": ""})
    assert (claim.payee_account, claim.payee_name) == ("6222021234567890123", "张三")  # blank keeps the saved one


def test_submit_refuses_missing_fields_zero_amount_stale_and_outside_coverage(env):
    claim = env.accept("重大疾病")
    claims.take_claims(env.ctx, [claim.id], env.staff)
    with pytest.raises(DomainError, match="请先点击【申领计算】"):
        claims.submit_claim(env.ctx, claim.id, env.staff)
    with pytest.raises(DomainError, match="请先填写：收款人、开户银行、收款账号"):
        claims.calculate_claim(env.ctx, claim.id, env.staff)
    zero = env.fill(env.accept("疾病住院", 1), base="0.01")
    assert zero.amount == D("0.00")
    with pytest.raises(DomainError, match="互助金额为0"):
        claims.submit_claim(env.ctx, zero.id, env.staff)
    stale = env.fill(env.accept("疾病住院", 2))
    claims.add_sheet(env.ctx, stale.id, env.staff, {"hospital": "二院", "admission_date": env.today.isoformat(),
                                                    "discharge_date": env.today.isoformat(), "total_cost": "100",
                                                    "policy_self_paid": "100"})
    with pytest.raises(DomainError, match="计算结果已过期"):
        claims.submit_claim(env.ctx, stale.id, env.staff)
    late = env.accept("意外身故", 1)
    claims.take_claims(env.ctx, [late.id], env.staff)
    claims.save_fee_entry(env.ctx, late.id, env.staff, {"incident_date": (env.today - timedelta(days=200)).isoformat(),
                                                        "payee_name": "家属", "payee_bank": "工行",
                                                        "payee_account": "6222021234567890123",
                                                        "payee_account_type": "passbook"})
    with pytest.raises(DomainError, match="不在保障期"):
        claims.calculate_claim(env.ctx, late.id, env.staff)


def test_settlement_sheet_checks(env):
    claim = env.accept("疾病住院")
    env.upload_all(claim)
    claims.take_claims(env.ctx, [claim.id], env.staff)
    base = {"hospital": "一院", "admission_date": "2025-03-05", "discharge_date": "2025-03-01", "total_cost": "100"}
    with pytest.raises(DomainError, match="出院日期不能早于入院日期"):
        claims.add_sheet(env.ctx, claim.id, env.staff, base)
    with pytest.raises(DomainError, match="须为金额"):
        claims.add_sheet(env.ctx, claim.id, env.staff, {**base, "discharge_date": "2025-03-06", "total_cost": "abc"})
    with pytest.raises(DomainError, match="不能超过住院总费用"):
        claims.add_sheet(env.ctx, claim.id, env.staff, {**base, "discharge_date": "2025-03-06", "fund_paid": "200"})
    other = env.accept("重大疾病")
    claims.take_claims(env.ctx, [other.id], env.staff)
    with pytest.raises(DomainError, match="不需要录入结算单"):
        claims.add_sheet(env.ctx, other.id, env.staff, base)


def test_cumulation_daily_allowance_days_and_the_annual_cap(env):
    first = env.drive(env.accept("意外住院"), "closed")
    assert first.amount == D("800.00")  # 50 × 8 days × 2 shares
    assert first.breakdown["days"] == 8
    death = env.fill(env.accept("意外身故"))
    assert death.amount == D("60000.00")
    claims.submit_claim(env.ctx, death.id, env.staff)
    critical = env.fill(env.accept("重大疾病"))
    # cap 100,000: 800 + 60,000 counted, 20,000 asked → 20,000; the grade kind after that hits the cap
    assert critical.amount == D("20000.00")
    claims.submit_claim(env.ctx, critical.id, env.staff)
    disability = env.fill(env.accept("意外伤残"), grade="1")
    assert disability.amount == D("19200.00")  # 100,000 − 80,800 left of 60,000 asked


# --- 初审 / 复核 ------------------------------------------------------------------------
def test_first_review_by_the_handler_refused_in_chinese(env):
    claim = env.drive(env.accept("重大疾病"), "first_review")
    with pytest.raises(SelfApprovalError, match="不能初审自己录入的案件"):
        claims.review_claim(env.ctx, claim.id, "approve", env.staff)


def test_same_person_first_and_second_review_refused_in_chinese(env):
    claim = env.drive(env.accept("重大疾病"), "second_review")
    with pytest.raises(SelfApprovalError, match="初审与复核不能为同一人"):
        claims.review_claim(env.ctx, claim.id, "approve", env.reviewer1)
    with pytest.raises(SelfApprovalError, match="初审与复核不能为同一人"):
        claims.review_claim(env.ctx, claim.id, "return", env.reviewer1, reason="x")
    assert claim.status == ClaimStatus.SECOND_REVIEW


def test_return_needs_a_reason_and_goes_back_to_the_same_handler(env):
    claim = env.drive(env.accept("重大疾病"), "first_review")
    with pytest.raises(DomainError, match="须填写原因"):
        claims.review_claim(env.ctx, claim.id, "return", env.reviewer1, reason=" ")
    claims.review_claim(env.ctx, claim.id, "return", env.reviewer1, reason="请补充出险经过")
    assert (claim.status, claim.handler_id, claim.return_reason) == (ClaimStatus.FEE_ENTRY, env.staff.id, "请补充出险经过")


def test_review_of_another_county_is_not_found(env):
    claim = env.drive(env.accept("重大疾病"), "first_review")
    other = make_user(env.ctx, "业务审核员", county(env.ctx, 1))
    with pytest.raises(NotFoundError):
        claims.review_claim(env.ctx, claim.id, "approve", other)


# --- every edge of the table, one test each ------------------------------------------
KIND_FOR = {ClaimStatus.MATERIALS: "疾病住院"}
EDGE_CASES = {
    (ClaimStatus.MATERIALS, "complete_materials"): lambda e, c: e.upload_all(c),
    (ClaimStatus.MATERIALS, "delete"): lambda e, c: claims.delete_claim(e.ctx, c.id, e.staff, confirmed=True),
    (ClaimStatus.FEE_ENTRY, "delete"): lambda e, c: claims.delete_claim(e.ctx, c.id, e.staff, confirmed=True),
    (ClaimStatus.FEE_ENTRY, "submit"): lambda e, c: (e.fill(c), claims.submit_claim(e.ctx, c.id, e.staff)),
    (ClaimStatus.FIRST_REVIEW, "approve"): lambda e, c: claims.review_claim(e.ctx, c.id, "approve", e.reviewer1),
    (ClaimStatus.FIRST_REVIEW, "return"): lambda e, c: claims.review_claim(e.ctx, c.id, "return", e.reviewer1,
                                                                           reason="退回"),
    (ClaimStatus.FIRST_REVIEW, "decline"): lambda e, c: claims.review_claim(e.ctx, c.id, "decline", e.reviewer1,
                                                                            reason="不在责任范围"),
    (ClaimStatus.SECOND_REVIEW, "approve"): lambda e, c: claims.review_claim(e.ctx, c.id, "approve", e.reviewer2),
    (ClaimStatus.SECOND_REVIEW, "return"): lambda e, c: claims.review_claim(e.ctx, c.id, "return", e.reviewer2,
                                                                            reason="退回初审"),
    (ClaimStatus.SECOND_REVIEW, "decline"): lambda e, c: claims.review_claim(e.ctx, c.id, "decline", e.reviewer2,
                                                                             reason="不予给付"),
    (ClaimStatus.PENDING_PAYMENT, "pay"): lambda e, c: payments.pay_one(e.ctx, "claim", c.id, e.finance,
                                                                        paid_on=e.today, reference="BK9"),
    (ClaimStatus.PENDING_PAYMENT, "fail"): lambda e, c: payments.fail_one(e.ctx, "claim", c.id, e.finance,
                                                                          reason="账号不存在"),
    (ClaimStatus.PAYMENT_FAILED, "correct_payee"): lambda e, c: claims.correct_payee(e.ctx, c.id, e.staff, {
        "payee_name": "出险人", "payee_bank": "建设银行", "payee_account": "6222021234567890123",
        "payee_account_type": "passbook"}),
}


def test_every_edge_of_the_flow_has_a_case():
    assert set(EDGE_CASES) == set(CLAIM_FLOW)


@pytest.mark.parametrize("edge", list(CLAIM_FLOW), ids=lambda e: f"{e[0]}-{e[1]}")
def test_edge(env, edge):
    status, action = edge
    claim = env.accept(KIND_FOR.get(status, "重大疾病"))
    env.drive(claim, status)
    EDGE_CASES[edge](env, claim)
    env.ctx.refresh(claim)
    assert claim.status == CLAIM_FLOW[edge].to
    last = env.ctx.scalars(select(ReviewTrail).where(ReviewTrail.entity == "claim", ReviewTrail.entity_id == claim.id)
                           .order_by(ReviewTrail.id.desc())).first()
    assert (last.from_status, last.action, last.to_status) == (status, action, CLAIM_FLOW[edge].to)
    if action == "decline":
        assert claim.declined and claim.amount == D("0.00") and claim.status_label == "结案（不予给付）"
    if action == "pay":
        assert claim.closed_at is not None and claim.payment_reference == "BK9"


REFUSED = [(s, a) for s in ClaimStatus for a in ClaimAction if (s, a) not in CLAIM_FLOW]


@pytest.mark.parametrize("edge", REFUSED, ids=lambda e: f"{e[0]}-{e[1]}")
def test_refused_edge(env, edge):
    status, action = edge
    claim = env.accept("重大疾病")
    env.ctx.execute(Claim.__table__.update().where(Claim.id == claim.id).values(status=status))
    env.ctx.commit()
    with pytest.raises(InvalidTransitionError, match=f"当前状态为「{ClaimStatus.label_of(status)}」，不能执行"):
        review_flow.apply_transition(env.ctx, Claim, claim.id, action, flow=CLAIM_FLOW, actor=env.reviewer2,
                                     reason="原因", status_labels=ClaimStatus)
    env.ctx.rollback()


# --- payments ---------------------------------------------------------------------------
def test_payment_failure_loop_and_card_revalidated(env):
    claim = env.drive(env.accept("重大疾病"), "payment_failed")
    assert claim.payment_failure_reason == "户名不符"
    with pytest.raises(DomainError, match="只有该案件的经办人"):
        claims.correct_payee(env.ctx, claim.id, env.staff2, {})
    with pytest.raises(DomainError, match="校验不通过"):
        claims.correct_payee(env.ctx, claim.id, env.staff, {**{"payee_name": "a", "payee_bank": "b"},
                                                            "payee_account": "6222021234567890121"})
    assert claim.status == ClaimStatus.PAYMENT_FAILED
    with pytest.raises(DomainError, match="请填写银行流水号"):
        payments.pay_one(env.ctx, "claim", claim.id, env.finance, paid_on=None, reference="")


def test_queues_carry_the_age(env):
    claim = env.drive(env.accept("重大疾病"), "first_review")
    claim.status_at -= timedelta(hours=5)
    env.ctx.commit()
    row = next(r for r in claims.queue(env.ctx, env.reviewer1, ClaimStatus.FIRST_REVIEW) if r["claim"].id == claim.id)
    assert row["age_hours"] == 5


def test_batch_file_and_bank_return_import(env, tmp_path):
    from app.services import imports
    from tests.factories import make_xlsx

    paid, failed = (env.drive(env.accept("重大疾病", i), "pending_payment") for i in (0, 1))
    path = tmp_path / "batch.xlsx"
    assert payments.write_batch_file(env.ctx, path, env.finance) >= 2
    from app.xlsx.reader import read_rows

    rows = list(read_rows(str(path)))
    assert rows[0][:3] == ["业务编号", "收款人", "开户银行"]
    assert [paid.number, "出险人"] == list(next(r for r in rows if r[0] == paid.number)[:2])
    header = ["业务编号", "打款结果", "银行流水号", "打款日期", "失败原因"]
    back = make_xlsx(tmp_path / "return.xlsx", [header, [paid.number, "成功", "BANK77", "2025-03-01", ""],
                                                [failed.number, "失败", "", "", "户名不符"],
                                                ["SL000", "成功", "X", "", ""], [paid.number, "失败", "", "", ""]],
                     sheet="银行回盘")
    with open(back, "rb") as fh:
        job = imports.submit_import(env.ctx, actor=env.finance, kind_key="bank_return", file_name="回盘.xlsx",
                                    stream=fh)
    job = imports.run_import(env.ctx, job.id)
    env.ctx.refresh(paid)
    env.ctx.refresh(failed)
    assert (paid.status, paid.payment_reference, str(paid.paid_on)) == (ClaimStatus.CLOSED, "BANK77", "2025-03-01")
    assert (failed.status, failed.payment_failure_reason) == (ClaimStatus.PAYMENT_FAILED, "户名不符")
    assert (job.updated_rows, job.error_rows) == (2, 2)


def test_closed_query_lists_closed_cases_in_scope(env):
    claim = env.drive(env.accept("重大疾病"), "closed")
    assert claim.id in [c.id for c in env.ctx.scalars(claims.closed_query(env.staff))]
    assert claim.id not in [c.id for c in env.ctx.scalars(claims.closed_query(
        make_user(env.ctx, "办事处业务人员", county(env.ctx, 1))))]
