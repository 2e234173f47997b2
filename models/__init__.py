"""SQLAlchemy models, one module per domain. Importing this registers them all."""
from . import audit, imports, members, organizations, review, security, vouchers  # noqa: F401
from . import attachments, numbers, outbox, verification  # noqa: F401 (shared services)
from . import mutual_aid  # noqa: F401
from . import messages, notices  # noqa: F401 (worker client: 站内信, CMS)
from . import service_cards  # noqa: F401
from . import recuperation  # noqa: F401
from .base import Model  # noqa: F401
