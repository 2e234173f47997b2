"""§2.1 / §2.3 from the attacker's side: masked personal data is not recoverable through filters
(lists, exports, 结算汇总, REST ``q``) nor through the edit form, without ``unmask``."""
import io

from python_calamine import CalamineWorkbook
from sqlalchemy import select

from models.audit import AuditLog
from seed.loader import DEMO_PASSWORD
from tests.factories import base_of, county, make_member
from tests.vouchers.conftest import demo_claimed  # noqa: F401  (fixture)


def _export_rows(response) -> list:
    assert response.status_code == 200 and "spreadsheet" in response.content_type, response.status_code
    return CalamineWorkbook.from_filelike(io.BytesIO(response.data)).get_sheet_by_index(0).to_python()


def _lookups(ctx) -> int:
    return len(ctx.scalars(select(AuditLog.id).where(AuditLog.event == "id_lookup")).all())


def test_auditor_cannot_walk_an_id_number_prefix_through_exports(client_as, ctx):
    """The attack: export with ``_flt_<any operator>_id_number=<prefix>`` and watch the row count."""
    victim = make_member(ctx, base_of(ctx, county(ctx)))
    auditor = client_as("auditor")
    everyone = len(_export_rows(auditor.get("/memberview/export/")))
    for prefix in (victim.id_number[:6], victim.id_number[:12], victim.id_number[:17]):
        for operator in range(10):  # every FAB string operator index: starts with, contains, range, in…
            rows = _export_rows(auditor.get(f"/memberview/export/?_flt_{operator}_id_number={prefix}"))
            assert len(rows) in (1, everyone), (operator, prefix)  # header only, or the filter ignored
    # the same walk through non-search columns and the list page tells nothing either
    for arg in (f"_flt_0_phone={victim.phone[:7]}", "_flt_0_remark=x", f"_flt_0_id={victim.id}"):
        assert len(_export_rows(auditor.get(f"/memberview/export/?{arg}"))) == everyone, arg
    page = auditor.get(f"/memberview/list/?_flt_0_id_number={victim.id_number[:6]}").get_data(as_text=True)
    assert "只能按完整号码精确查询" in page or victim.name not in page
    assert victim.id_number not in page and victim.phone not in page


def test_exact_id_number_lookup_stays_allowed_and_is_audited(client_as, ctx):
    victim = make_member(ctx, base_of(ctx, county(ctx)))
    before = _lookups(ctx)
    rows = _export_rows(client_as("auditor").get(f"/memberview/export/?_flt_0_id_number={victim.id_number}"))
    assert [r[1] for r in rows[1:]] == [victim.name]
    assert victim.id_number not in str(rows)  # still masked in the file
    ctx.expire_all()
    assert _lookups(ctx) == before + 1
    row = ctx.scalar(select(AuditLog).where(AuditLog.event == "id_lookup").order_by(AuditLog.id.desc()))
    assert row.username == "auditor" and victim.id_number not in (row.detail or "")


def test_phone_never_filters_for_a_role_without_unmask(client_as, ctx):
    """Exact-match filters would confirm a guessed phone (10,000 guesses behind a masked one)."""
    victim = make_member(ctx, base_of(ctx, county(ctx)))
    auditor = client_as("auditor")
    everyone = len(_export_rows(auditor.get("/memberview/export/")))
    for operator in range(10):
        assert len(_export_rows(auditor.get(f"/memberview/export/?_flt_{operator}_phone={victim.phone}"))) == everyone


def test_settlement_summary_ignores_filters_outside_its_search_columns(client_as, demo_claimed, ctx):  # noqa: F811
    from app.services import vouchers as svc

    voucher, merchant = demo_claimed("王结算")
    svc.redeem_voucher(ctx, voucher.code, redeemer=svc.Redeemer(merchant.id, None))
    client = client_as("county_admin")
    everything = _export_rows(client.get("/voucherview/settle/?format=xlsx"))
    assert merchant.name in [r[1] for r in everything]  # a filter that applied would change this
    for arg in (f"_flt_0_member={voucher.member_id}", f"_flt_0_member_id={voucher.member_id}",
                f"_flt_0_id={voucher.id}"):
        assert _export_rows(client.get(f"/voucherview/settle/?format=xlsx&{arg}")) == everything, arg


def _jwt(client, username):
    response = client.post("/api/v1/security/login", json={"username": username, "password": DEMO_PASSWORD,
                                                           "provider": "db", "refresh": False})
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def test_rest_q_filters_refuse_prefixes_of_masked_columns(app, ctx):
    victim = make_member(ctx, base_of(ctx, county(ctx)))
    client = app.test_client()
    headers = _jwt(client, "auditor")
    for opr in ("sw", "ct", "ew", "neq", "in", "gt"):
        query = f"(filters:!((col:id_number,opr:{opr},value:'{victim.id_number[:6]}')))"
        response = client.get(f"/api/v1/member/?q={query}", headers=headers)
        assert response.status_code == 400 and "count" not in response.json, opr
        assert response.json["code"] == "bad_request"
    refused = client.get(f"/api/v1/member/?q=(filters:!((col:id_number,opr:sw,value:'{victim.id_number[:6]}')))",
                         headers=headers).json
    assert "精确查询" in refused["message"]
    for column in ("phone", "remark", "id"):  # not search columns at all
        response = client.get(f"/api/v1/member/?q=(filters:!((col:{column},opr:eq,value:'1')))", headers=headers)
        assert response.status_code == 400, column
    exact = client.get(f"/api/v1/member/?q=(filters:!((col:id_number,opr:eq,value:'{victim.id_number}')))",
                       headers=headers).json
    assert exact["count"] == 1 and exact["result"][0]["id_number_masked"] == victim.id_number_masked
    assert victim.id_number not in str(exact)


def test_edit_form_shows_no_raw_phone_without_unmask(client_as, ctx):
    """§2.3: base_admin may edit members but not unmask: the form must not hand out the phone."""
    from models.organizations import Org
    from models.security import AppUser

    org_id = ctx.scalar(select(AppUser.org_id).where(AppUser.username == "base_admin"))
    victim = make_member(ctx, ctx.get(Org, org_id))
    client = client_as("base_admin")
    page = client.get(f"/memberview/edit/{victim.id}").get_data(as_text=True)
    assert client.get(f"/memberview/edit/{victim.id}").status_code == 200
    assert victim.phone not in page and victim.id_number not in page
    assert victim.phone_masked in page
