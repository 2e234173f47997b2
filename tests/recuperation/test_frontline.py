"""一线职工名单 (A-19): imported by a city / county federation through the one import engine; only
members on the year's roster may declare 一线职工疗休养."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.services import imports
from app.services.errors import DomainError
from app.services.recuperation import declarations as svc
from app.services.recuperation import policy as policies
from models.imports import JobError
from models.recuperation import FrontlineRoster
from tests.factories import base_of, county, make_member, make_user, make_xlsx

from .conftest import YEAR, member_account
from .test_api import token
from .test_views import client_of

pytestmark = pytest.mark.usefixtures("frozen_clock", "policy")
HEADER = ["*年度", "*身份证号", "*姓名", "备注"]
SHEET = "一线职工疗休养名单导入表"


def run(ctx, path, actor):
    with open(path, "rb") as fh:
        job = imports.submit_import(ctx, actor=actor, kind_key="recup_frontline", file_name=Path(path).name, stream=fh)
    return imports.run_import(ctx, job.id)


def reasons(ctx, job):
    return [e.reasons for e in ctx.scalars(select(JobError).where(JobError.job_id == job.id).order_by(JobError.row_no))]


def test_county_imports_roster_only_its_members_and_reimport_adds_nothing(ctx, tmp_path, home_county,
                                                                          member_factory):
    admin = make_user(ctx, "区县工会管理员", home_county)
    ours, other = member_factory(), member_factory()
    stranger = make_member(ctx, base_of(ctx, county(ctx, 1), 0))
    rows = [HEADER, [str(YEAR), ours.id_number, ours.name, "环卫一线"],
            [str(YEAR), stranger.id_number, stranger.name, ""],
            [str(YEAR), other.id_number, "张冒名", ""],
            [str(YEAR), ours.id_number, ours.name, ""],
            ["明年", other.id_number, other.name, ""]]
    path = make_xlsx(tmp_path / "一线名单.xlsx", rows, sheet=SHEET)
    job = run(ctx, path, admin)
    assert (job.created_rows, job.error_rows) == (1, 4), job.message
    found = reasons(ctx, job)
    assert "不在本级及下级工会" in found[0]["id_number"]
    assert found[1]["name"] == "姓名与会员信息不一致"
    assert found[2]["id_number"] == "与本文件第2行重复"
    assert "年度" in found[3]["year"]
    assert run(ctx, path, admin).created_rows == 0      # the same file again: nothing doubled
    assert ctx.scalar(select(func.count(FrontlineRoster.id)).where(FrontlineRoster.member_id == ours.id)) == 1
    policy = policies.get_policy(ctx, YEAR)
    assert "frontline" in policies.types_for(ctx, policy, ours)
    assert "frontline" not in policies.types_for(ctx, policy, other)


def test_a_base_union_cannot_import_the_roster(ctx, tmp_path, union, member_factory):
    member = member_factory()
    path = make_xlsx(tmp_path / "名单.xlsx", [HEADER, [str(YEAR), member.id_number, member.name, ""]], sheet=SHEET)
    job = run(ctx, path, make_user(ctx, "基层工会管理员", union))
    assert job.created_rows == 0 and job.error_rows == 1
    assert reasons(ctx, job)[0] == {"_row": "一线职工名单只能由市、区县总工会导入"}


def test_declaring_frontline_off_the_roster_is_refused_in_chinese(app, ctx, member_factory, home_county):
    off, on = member_factory(), member_factory()
    ctx.add(FrontlineRoster(year=YEAR, member_id=on.id, org_id=home_county.id))
    ctx.commit()
    with pytest.raises(DomainError, match=f"您不在{YEAR}年度一线职工疗休养名单内"):
        svc.save_declaration(ctx, member=off, year=YEAR, type="frontline", actor=None)
    client = app.test_client()
    response = client.put("/api/v1/recuperation/declaration", json={"type": "frontline"},
                          headers=token(client, member_account(ctx, off)))
    assert response.status_code == 400 and "一线职工疗休养名单" in response.json["message"]
    saved = svc.save_declaration(ctx, member=on, year=YEAR, type="frontline", actor=None)
    submitted = svc.submit_declaration(ctx, saved.declaration.id, actor=None, commitment=True)
    assert submitted.declaration.status_label == "已上报" and submitted.declaration.type_label == "一线职工疗休养"


def test_roster_page_scoped_and_import_button(app, ctx, member_factory, home_county, union):
    member = member_factory()
    ctx.add(FrontlineRoster(year=YEAR, member_id=member.id, org_id=home_county.id))
    ctx.commit()
    own = client_of(app, make_user(ctx, "区县工会管理员", home_county)).get("/frontlinerosterview/list/")
    html = own.get_data(as_text=True)
    assert member.name in html and "导入一线职工名单" in html and member.id_number not in html
    far = client_of(app, make_user(ctx, "区县工会管理员", county(ctx, 1))).get("/frontlinerosterview/list/")
    assert member.name not in far.get_data(as_text=True)
    assert client_of(app, make_user(ctx, "基层工会管理员", union)).get("/frontlinerosterview/list/").status_code == 403
