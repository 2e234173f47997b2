"""``flask`` commands: init-db, sync-perms, seed-demo, db-baseline, audit-verify, sweep-jobs, retention
(plus Flask-Migrate's ``flask db …``)."""
from __future__ import annotations

import sys

import click
from flask import current_app

from app.extensions import db


def init_db(*, from_models: bool = False, demo: bool = False) -> dict:
    """Bring the schema up to date and sync roles from permissions.yaml (idempotent).

    The schema comes from the Alembic migrations; ``from_models`` builds it with create_all
    instead (tests only: ``tests/durability/test_migrations.py`` checks both agree). ``demo``
    (run.py) sets aside an embedded SQLite file made before migrations existed.
    """
    from app.permissions import sync_roles
    from app.schema import upgrade_schema
    from models import Model

    if from_models:
        Model.metadata.create_all(db.engine)
    else:
        upgrade_schema(current_app, replace_unversioned_sqlite=demo)
    result = sync_roles(current_app.appbuilder, current_app.extensions["union_roles"])
    db.session.commit()
    return result


def register_cli(app) -> None:
    @app.cli.command("init-db")
    def init_db_command():
        """Upgrade the schema (migrations) and sync roles."""
        click.echo(f"roles synced: {init_db()}")

    @app.cli.command("sync-perms")
    def sync_perms_command():
        """Sync FAB roles with permissions.yaml (adds and removes)."""
        from app.permissions import sync_roles

        click.echo(f"roles synced: {sync_roles(current_app.appbuilder, current_app.extensions['union_roles'])}")

    @app.cli.command("seed-demo")
    @click.option("--members", default=2000, show_default=True)
    def seed_demo_command(members):
        """Load the demo data (skipped when an org already exists)."""
        from seed.loader import seed_demo

        click.echo(seed_demo(db.session, members=members))

    @app.cli.command("db-baseline")
    def db_baseline_command():
        """Regenerate migrations/versions/0001_initial_schema.py from the models."""
        from app.schema import write_baseline

        click.echo(f"written: {write_baseline()}")

    @app.cli.command("audit-verify")
    @click.option("--no-seal", is_flag=True, help="Verify only; do not chain new rows first.")
    def audit_verify_command(no_seal):
        """Check the audit log's hash chain; exit code 1 and the first broken row when tampered with."""
        from app.services import audit_chain

        if not no_seal:
            audit_chain.seal(db.session)
        verdict = audit_chain.verify(db.session)
        if verdict.ok:
            click.echo(f"审计日志哈希链完整：已校验 {verdict.checked} 条，待入链 {verdict.unsealed} 条，"
                       f"链尾哈希 {verdict.head_hash}")
            return
        click.echo(f"审计日志哈希链断裂：第一条异常记录 id={verdict.broken_id} 序号={verdict.broken_no}："
                   f"{verdict.reason}（此前 {verdict.checked} 条完整）", err=True)
        sys.exit(1)

    @app.cli.command("sweep-jobs")
    def sweep_jobs_command():
        """Send queued jobs the broker missed, resume or end abandoned ones (beat does this every minute)."""
        from app.services import jobs

        click.echo(jobs.sweep(db.session))

    @app.cli.command("retention")
    def retention_command():
        """Remove expired and orphaned files (beat does this every RETENTION_SECONDS)."""
        from app.services import retention

        click.echo(retention.apply_retention(db.session))
