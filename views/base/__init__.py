"""The shared view machinery, one module per mechanism.

- ``interface``: the scoped paging interface (capped counts, pk-first pages);
- ``scoped``: the scoped model view (every read and write path limited to the scope);
- ``export``: 「导出 Excel」 of a list (masked, streamed, large ones as jobs);
- ``review``: review flows as FAB actions, and one-row steps from a show page;
- ``display``: how values read on pages, one-off file downloads.
"""
from .display import XLSX, as_list, display_value, flash_enqueued, send_xlsx_once
from .interface import FilterStartsWithLike, ScopedInterface
from .review import ReviewFlowMixin, StepFlowMixin
from .scoped import ScopedModelView, scope_rel

__all__ = ["XLSX", "FilterStartsWithLike", "ReviewFlowMixin", "ScopedInterface", "ScopedModelView", "StepFlowMixin",
           "as_list", "display_value", "flash_enqueued", "scope_rel", "send_xlsx_once"]
