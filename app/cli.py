"""``flask`` commands: init-db, sync-perms, seed-demo."""
from __future__ import annotations

import click
from flask import current_app

from app.extensions import db


def init_db() -> dict:
    """Create missing tables and sync roles from permissions.yaml (idempotent)."""
    from app.permissions import sync_roles
    from models import Model

    Model.metadata.create_all(db.engine)
    result = sync_roles(current_app.appbuilder, current_app.extensions["union_roles"])
    db.session.commit()
    return result


def register_cli(app) -> None:
    @app.cli.command("init-db")
    def init_db_command():
        """Create tables and sync roles."""
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
