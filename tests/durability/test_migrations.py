"""The migrations build exactly the models' schema (autogenerate finds nothing to add or drop)."""
import pytest
from sqlalchemy import create_engine, make_url, text

from app.database import reset_postgres_schema
from tests.conftest import _config


@pytest.fixture()
def fresh_url(db_url, tmp_path):
    """An empty database beside the suite's: a SQLite file, or <db>_migrations on PostgreSQL."""
    if not db_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    url = make_url(db_url)
    name = f"{url.database}_migrations"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield reset_postgres_schema(url.set(database=name).render_as_string(hide_password=False))


def test_migrations_and_models_agree(fresh_url):
    import models
    from app import create_app
    from app.extensions import db
    from app.schema import schema_differences, upgrade_schema

    app = create_app(_config(fresh_url))
    with app.app_context():
        upgrade_schema(app)  # flask db upgrade
        with db.engine.connect() as connection:
            differences = schema_differences(connection, models.Model.metadata)
            version = connection.scalar(text("SELECT version_num FROM alembic_version"))
        db.engine.dispose()
    assert differences == [], f"regenerate the baseline (flask db-baseline) or add a revision: {differences}"
    assert version == "0003"



def test_cards_of_members_transferred_earlier_move_to_their_union(fresh_url):
    """0003: an active card left with the old union by an earlier transfer moves to the member's union,
    with a trail row; a cancelled card and a card already in place stay as they are."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.services.organizations import create_org
    from models.review import ReviewTrail
    from models.service_cards import CardStatus, ServiceCard
    from tests.factories import make_member

    app = create_app(_config(fresh_url))
    with app.app_context():
        upgrade(revision="0002")
        city = create_org(db.session, name="迁移市总工会", parent=None, code="310")
        old, new = (create_org(db.session, name=f"迁移{n}工会", parent=create_org(
            db.session, name=f"迁移{n}区总工会", parent=city, code=f"10{i}")) for i, n in enumerate("甲乙"))
        moved, left, stays = (make_member(db.session, new), make_member(db.session, new), make_member(db.session, old))
        cards = [ServiceCard(member_id=m.id, org_id=old.id, member_no=f"10{n:08d}", district_name="迁移区",
                             status=status) for n, (m, status) in enumerate(
            [(moved, CardStatus.NORMAL), (left, CardStatus.CANCELLED), (stays, CardStatus.NORMAL)])]
        db.session.add_all(cards)
        db.session.commit()
        ids, old_id, new_id = [c.id for c in cards], old.id, new.id
        upgrade()
        db.session.expire_all()
        orgs = [db.session.get(ServiceCard, i).org_id for i in ids]
        trails = db.session.scalars(db.session.query(ReviewTrail.entity_id).filter(
            ReviewTrail.entity == "service_card").statement).all()
        db.engine.dispose()
    assert orgs == [new_id, old_id, old_id]
    assert trails == [ids[0]]
