"""Import kinds with parameters: checked at submission, kept on the job, read by make_context."""
import pytest

from app.services import imports
from app.services.errors import DomainError
from app.xlsx.writer import Column, SheetSpec
from tests.factories import make_xlsx

SEEN = {}


def _check(session, actor, params):
    if params.get("target") not in ("a", "b"):
        raise DomainError("请选择导入目标")
    return {"target": params["target"]}


def _context(session, job, actor):
    SEEN["params"] = job.params
    return job.params


def _parse(cells, ctx):
    return {"name": cells.get("name"), "target": ctx["target"]}, {}


def _write(session, rows, ctx, actor):
    SEEN.setdefault("rows", []).extend(r for _n, r in rows)
    return len(rows), 0, []


KIND = imports.register(imports.ImportKind(
    key="test_params", label="参数测试", sheet=SheetSpec("参数测试", [Column("name", "姓名", required=True)]),
    make_context=_context, parse_row=_parse, write_batch=_write, check_params=_check))


def test_params_are_checked_kept_and_read(ctx, tmp_path):
    from sqlalchemy import select

    from models.security import AppUser

    actor = ctx.scalar(select(AppUser).where(AppUser.username == "county_admin"))
    path = make_xlsx(tmp_path / "p.xlsx", [["*姓名"], ["张三"]], sheet="参数测试")
    with open(path, "rb") as fh, pytest.raises(DomainError, match="请选择导入目标"):
        imports.submit_import(ctx, actor=actor, kind_key="test_params", file_name="p.xlsx", stream=fh,
                              params={"target": "z"})
    with open(path, "rb") as fh:
        job = imports.submit_import(ctx, actor=actor, kind_key="test_params", file_name="p.xlsx", stream=fh,
                                    params={"target": "b", "extra": "dropped"}, org_id=actor.org_id)
    assert job.params == {"target": "b"}
    imports.run_import(ctx, job.id)
    assert SEEN["params"] == {"target": "b"} and SEEN["rows"] == [{"name": "张三", "target": "b"}]
    assert job.status == "succeeded"
