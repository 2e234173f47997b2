"""Bases and products, and consumption statements, imported through the one import engine."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from app.services import imports
from app.services.recuperation import balance as balances
from models.imports import JobError
from models.recuperation import Consumption, Product, RecupBase
from models.security import AppUser
from tests.factories import make_xlsx

from .conftest import YEAR

PRODUCT_HEADER = ["*基地名称", "*所在区县", "*产品类别", "*产品名称", "*职工价", "*团队价", "*每日限量", "状态", "基地地址",
                  "联系电话"]


def run(ctx, path, kind, username="county_admin"):
    actor = ctx.scalar(select(AppUser).where(AppUser.username == username))
    with open(path, "rb") as fh:
        job = imports.submit_import(ctx, actor=actor, kind_key=kind, file_name=Path(path).name, stream=fh)
    return imports.run_import(ctx, job.id)


def test_products_import_upserts_and_refuses_price_above_group_price(ctx, tmp_path, home_county):
    rows = [PRODUCT_HEADER,
            ["导入测试基地", home_county.name, "餐饮套餐", "导入套餐", "88.00", "98.00", "30", "上架", "某路1号", ""],
            ["导入测试基地", home_county.name, "住宿", "导入标间", "268", "300", "10", "", "", ""],
            ["导入测试基地", home_county.name, "住宿", "贵价房", "320", "300", "10", "", "", ""],
            ["导入测试基地", "不存在的区县", "景点活动", "门票", "50", "60", "abc", "", "", ""]]
    job = run(ctx, make_xlsx(tmp_path / "产品.xlsx", rows, sheet="疗休养基地产品导入表"), "recup_products")
    assert (job.created_rows, job.error_rows) == (2, 2), job.message
    reasons = [e.reasons for e in ctx.scalars(select(JobError).where(JobError.job_id == job.id).order_by(JobError.row_no))]
    assert "不得高于团队价" in reasons[0]["price"]
    assert "county" in reasons[1] and "daily_capacity" in reasons[1]
    base = ctx.scalar(select(RecupBase).where(RecupBase.name == "导入测试基地"))
    assert base.org_id == home_county.id
    rows[2][6] = "12"
    again = run(ctx, make_xlsx(tmp_path / "产品2.xlsx", rows[:3], sheet="疗休养基地产品导入表"), "recup_products")
    assert (again.created_rows, again.updated_rows) == (0, 2)
    assert ctx.scalar(select(Product.daily_capacity).where(Product.name == "导入标间")) == 12


def test_consumption_import_gives_the_balance(ctx, tmp_path, policy, base, member_factory):
    member = member_factory()
    rows = [["*流水号", "*身份证号", "*基地名称", "*消费金额", "*消费时间"],
            [f"POS{member.id}-1", member.id_number, base.name, "88.00", "2025-05-01 12:30"],
            [f"POS{member.id}-2", member.id_number, base.name, "268.00", "2025-05-01 20:00"],
            [f"POS{member.id}-3", "110101199001010000", base.name, "10.00", "2025-05-01 20:00"]]
    path = make_xlsx(tmp_path / "流水.xlsx", rows, sheet="疗休养消费流水导入表")
    job = run(ctx, path, "recup_consumption")
    assert (job.created_rows, job.error_rows) == (2, 1)
    assert run(ctx, path, "recup_consumption").created_rows == 0  # the same statement again: nothing doubled
    result = balances.balance_of(ctx, member.id, YEAR)
    assert result.balance == Decimal("44.00")
    at = ctx.scalar(select(Consumption.at).where(Consumption.serial == f"POS{member.id}-1"))
    assert at == datetime(2025, 5, 1, 4, 30, tzinfo=timezone.utc)  # typed as Beijing time
