"""互助保障 (seeds 004, 001): member units, protection plans, enrollments, invoicing, letters, claims."""
from .claims import (  # noqa: F401
    CLAIM_FLOW,
    Claim,
    ClaimAction,
    ClaimKind,
    ClaimStatus,
    PayeeAccountType,
    SettlementSheet,
)
from .enrollments import (  # noqa: F401
    ENROLLMENT_FLOW,
    Enrollment,
    EnrollmentPlan,
    EnrollmentStatus,
    InsuredPerson,
    PersonStatus,
    RiskGroup,
)
from .invoicing import InvoiceRequest, InvoiceStatus, InvoiceType, PeriodStatus, SettlementPeriod  # noqa: F401
from .letters import ConfirmationLetter  # noqa: F401
from .plans import BenefitRule, CoverageMode, PlanKind, ProtectionPlan  # noqa: F401
from .info_changes import INFO_CHANGE_FLOW, InfoChangeRequest, InfoChangeStatus  # noqa: F401
from .subsidies import SUBSIDY_FLOW, SubsidyApplication, SubsidyStatus  # noqa: F401
from .workers import WorkerBinding  # noqa: F401
from .units import REGISTRATION_FLOW, MemberUnit, RegistrationStatus  # noqa: F401
