"""互助保障 rules, one module per part: registration, plans, enrollment, persons (the person-list
import kind), invoicing (C3, C4), letters (确认书), transfers (人员调入), queues (the office's figures).

Other domains may use: ``plans.progressive_amount`` and ``plans.validate_benefit_rule`` (claims),
``enrollment.enrollment_scope`` (scoping rows that hang off an enrollment)."""
