"""Reads with a rule in them: who sees what, the figures of a period, queues, logs, checks.

Every page starts from `office_access(user)`: head office sees the chain, a store manager the
stores they manage (figures only), anyone else nothing. Figures come from the summary tables
(`dashboard.models`), never from the ledger, so each page runs a fixed number of queries.

By subject, as the views: `common` (access), `figures`, `privacy_queue` (tickets, the consent
log and its chain), `configuration` (stores, staff), `compliance` (the self-check).
"""

from dashboard.selectors.common import OfficeAccess, office_access, office_head_required
from dashboard.selectors.compliance import (
    FORBIDDEN_FIELD,
    NOT_POSTAL,
    ComplianceReport,
    FieldFinding,
    RetentionSummary,
    compliance_report,
    retention_last_run,
    schema_forbidden_fields,
)
from dashboard.selectors.configuration import (
    staff_overview,
    staff_user_find,
    store_for_office,
    stores_overview,
)
from dashboard.selectors.figures import SUMMED, Figures, Table, figures_for
from dashboard.selectors.privacy_queue import (
    CHAIN_LIVE_LIMIT,
    CONSENT_PAGE,
    DUE_SOON_DAYS,
    ChainStatus,
    consent_chain_status,
    consent_records,
    head_office_emails,
    ticket_for_office,
    ticket_urgency,
    tickets_count_by_state,
    tickets_due_soon,
    tickets_queue,
)

__all__ = [
    "CHAIN_LIVE_LIMIT",
    "CONSENT_PAGE",
    "DUE_SOON_DAYS",
    "FORBIDDEN_FIELD",
    "NOT_POSTAL",
    "SUMMED",
    "ChainStatus",
    "ComplianceReport",
    "FieldFinding",
    "Figures",
    "OfficeAccess",
    "RetentionSummary",
    "Table",
    "compliance_report",
    "consent_chain_status",
    "consent_records",
    "figures_for",
    "head_office_emails",
    "office_access",
    "office_head_required",
    "retention_last_run",
    "schema_forbidden_fields",
    "staff_overview",
    "staff_user_find",
    "store_for_office",
    "stores_overview",
    "ticket_for_office",
    "ticket_urgency",
    "tickets_count_by_state",
    "tickets_due_soon",
    "tickets_queue",
]
