"""疗休养 (seed 000): bases and products, the yearly policy, declarations and the bases' orders."""
from .bases import BaseStatus, Product, ProductCategory, ProductDay, ProductStatus, RecupBase  # noqa: F401
from .complaints import COMPLAINT_FLOW, Complaint, ComplaintStatus  # noqa: F401
from .declarations import (  # noqa: F401
    DECLARATION_FLOW,
    LIVE_STATUSES,
    RESERVATION_FLOW,
    Consumption,
    Declaration,
    DeclarationDay,
    DeclarationItem,
    DeclarationStatus,
    FrontlineRoster,
    Reservation,
    ReservationStatus,
    TourGroup,
    TourGroupStatus,
)
from .policy import CITY_TYPES, PLATFORM_TYPES, UNIT_TYPES, RecuperationPolicy, RecupType  # noqa: F401
