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
    assert version == "0002"

