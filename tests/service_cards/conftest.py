"""Service-card fixtures: the demo base union (黄浦区机关工会) and its clerk, the county admin of
黄浦区, a batch built through the import engine."""
import pytest
from sqlalchemy import select

from models.security import AppUser
import random

from seed.generators import chinese_name as _name
from tests.factories import make_xlsx, new_id_number

_rng = random.Random(12)


def chinese_name():
    return _name(_rng)

APPLICATION_HEADER = ["*姓名", "证件类型", "*证件号码", "性别", "出生日期", "*手机号", "联系地址", "是否农民工", "职务",
                      "入会日期", "所属工会", "所在单位", "备注"]
BANK_HEADER = ["*姓名", "*证件号码", "*卡号", "银行账号"]


def user(session, username):
    return session.scalar(select(AppUser).where(AppUser.username == username))


def application_row(*, name=None, id_number=None, phone="13800138000", **over):
    row = [name or chinese_name(), "居民身份证", id_number or new_id_number(), "", "", phone, "上海市黄浦区某路1号",
           "否", "职员", "2020-01-02", "", "", ""]
    for index, value in over.items():
        row[int(index)] = value
    return row


def upload(session, batch, rows, actor, tmp_path, *, kind="card_application", header=None, name="members.xlsx"):
    from app.services import imports
    from app.services.service_cards import applications

    header = header or (APPLICATION_HEADER if kind == "card_application" else BANK_HEADER)
    path = make_xlsx(tmp_path / name, [header, *rows], sheet="Sheet1")
    with open(path, "rb") as fh:
        job = applications.submit_file(session, batch.id, kind=kind, actor=actor, file_name=name, stream=fh)
    return imports.run_import(session, job.id)


@pytest.fixture()
def clerk(ctx):
    return user(ctx, "base_admin")


@pytest.fixture()
def county_admin(ctx):
    return user(ctx, "county_admin")


@pytest.fixture()
def batch(ctx, clerk):
    from app.services.service_cards import batches

    return batches.create_batch(ctx, actor=clerk, contact="王芳", phone="13912345678")


@pytest.fixture()
def filled(ctx, batch, clerk, tmp_path):
    """A batch of three new members, imported and pre-validated."""
    job = upload(ctx, batch, [application_row() for _ in range(3)], clerk, tmp_path)
    assert job.ok_rows == 3, job.message
    return batch


@pytest.fixture()
def submitted(ctx, filled, clerk):
    from app.services.service_cards import batches

    batches.update_summary(ctx, filled.id, actor=clerk, id_copies_received=True)
    return batches.submit_batch(ctx, filled.id, actor=clerk)


@pytest.fixture()
def opening(ctx, submitted, county_admin):
    from app.services.service_cards import batches

    batches.receive_batch(ctx, submitted.id, actor=county_admin, counted=3, remark="材料齐全")
    return batches.hand_over_to_bank(ctx, submitted.id, actor=county_admin)


def bank_rows(session, batch, prefix="62"):
    from models.service_cards import CardApplication

    lines = session.scalars(select(CardApplication).where(CardApplication.batch_id == batch.id)
                            .order_by(CardApplication.id)).all()
    return [[line.name, line.id_number, f"{prefix}{line.id:010d}", f"6228{line.id:012d}"] for line in lines]


@pytest.fixture()
def issued(ctx, opening, county_admin, tmp_path):
    job = upload(ctx, opening, bank_rows(ctx, opening), county_admin, tmp_path, kind="card_bank_result",
                 name="bank.xlsx")
    assert job.ok_rows == 3, job.message
    return opening
