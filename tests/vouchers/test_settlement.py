"""结算入帐: the redemption detail and the per-merchant summary, scoped and masked."""
import io

from python_calamine import CalamineWorkbook

from app.services import claims, vouchers
from app.services.vouchers import Redeemer
from tests.factories import base_of, county
from tests.vouchers.conftest import claimer, later


def _rows(data):
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def _redeemed(ctx, open_activity, count=3):
    activity, coupon, merchant = open_activity(quantity=count + 1)
    union = base_of(ctx, county(ctx), 0)
    for i in range(count):
        member = claimer(ctx, union, name="结算会员")
        voucher = claims.claim_voucher(ctx, activity.id, member.id, now=later())
        vouchers.redeem_voucher(ctx, voucher.code, redeemer=Redeemer(merchant.id, None), now=later())
    return activity, merchant


def test_detail_and_summary_for_one_activity(client_as, ctx, open_activity):
    activity, merchant = _redeemed(ctx, open_activity)
    client = client_as("county_admin")
    detail = _rows(client.get(f"/voucherview/export/?_flt_0_activity={activity.id}").data)
    assert detail[0][:4] == ["券码", "活动", "优惠券", "会员"]
    redeemed = [r for r in detail[1:] if r[9] == "已核销"]
    assert len(redeemed) == 3 and all(r[3] == "结***" and r[6] == merchant.name and r[8] == 20 for r in redeemed)
    summary = _rows(client.get(f"/voucherview/settle/?_flt_0_activity={activity.id}&format=xlsx").data)
    assert summary[0] == ["活动", "核销商家", "核销张数", "面值合计（元）"]
    assert summary[1] == [activity.title, merchant.name, 3, 60] and summary[-1] == ["合计", "", 3, 60]


def test_other_scopes_and_roles_are_refused(client_as, ctx, open_activity):
    activity, merchant = _redeemed(ctx, open_activity, count=1)
    other = _rows(client_as("county2_admin").get(f"/voucherview/export/?_flt_0_activity={activity.id}").data)
    assert len(other) == 1  # the header only: another county sees none of it
    assert client_as("auditor").get("/voucherview/settle/").status_code == 403
    assert client_as("reviewer").get("/voucherview/export/").status_code == 403
    mine = _rows(client_as("merchant").get("/voucherview/settle/?format=xlsx").data)
    assert merchant.name not in [r[1] for r in mine[1:-1]]  # the demo merchant settles only its own
