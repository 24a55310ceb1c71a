"""The demo chain's logins: what `seed_demo` makes, and the compliance check refuses outside
development (a printed password is no secret)."""

from __future__ import annotations

from stores.models import StaffRole

DEMO_PASSWORD = "demo-counter-2026"  # noqa: S105 - printed demo login, refused in production
DEMO_READER = "Demo reader (virtual card)"

STAFF = [
    ("headoffice", StaffRole.HEAD_OFFICE, None),
    ("manager.gent", StaffRole.STORE_MANAGER, "GNT01"),
    ("kassa.gent", StaffRole.CASHIER, "GNT01"),
    ("kassa.antwerpen", StaffRole.CASHIER, "ANT01"),
    ("caisse.liege", StaffRole.CASHIER, "LIE01"),
    ("gerant.liege", StaffRole.STORE_MANAGER, "LIE01"),
    ("caisse.bruxelles", StaffRole.CASHIER, "BXL01"),
]
