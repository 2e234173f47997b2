"""Alembic environment: the target is every model (``import models`` registers them all,
FAB's security tables included), rendered with plain SQLAlchemy types (``app.schema.render_item``)."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

import models
from app.schema import render_item

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)  # the app's own logging stays

target_metadata = models.Model.metadata


def run_migrations_offline():
    context.configure(url=str(current_app.extensions["migrate"].db.engine.url), target_metadata=target_metadata,
                      literal_binds=True, render_item=render_item, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def skip_empty(_context, _revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []  # no change in the models: no empty revision

    engine = current_app.extensions["migrate"].db.engine
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_item=render_item,
                          compare_type=True, render_as_batch=connection.dialect.name == "sqlite",
                          process_revision_directives=skip_empty)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
