"""SQLAlchemy models, one module per domain. Importing this registers them all."""
from . import audit, imports, members, organizations, review, security, vouchers  # noqa: F401
from .base import Model  # noqa: F401
