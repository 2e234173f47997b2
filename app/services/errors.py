"""Domain errors: every one carries a Chinese message and a stable code."""
from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request. ``message`` is shown to the user as is."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def __str__(self) -> str:
        return self.message


class NotFoundError(DomainError):
    """The row does not exist or lies outside the actor's scope (both answer 404)."""

    code = "not_found"


class PermissionDeniedError(DomainError):
    code = "permission_denied"


class InvalidTransitionError(DomainError):
    code = "invalid_transition"


class SelfApprovalError(DomainError):
    code = "self_approval"


class ReasonRequiredError(DomainError):
    code = "reason_required"


class MemberInvalidError(DomainError):
    """Collects every field error of one member record before raising."""

    code = "member_invalid"

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("；".join(f"{msg}" for msg in errors.values()))
