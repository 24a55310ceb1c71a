"""Every write of the privacy app, by subject: notices, consent, tickets, erasure, access."""

from privacy.services.access import (
    access_execute,
    access_export_at_counter,
    access_export_build,
    access_export_csv,
    access_export_json,
)
from privacy.services.consent import (
    ALL_PURPOSES,
    ConsentGrant,
    Withdrawal,
    consent_attach,
    consent_give,
    consent_give_many,
    consent_require,
    consent_subject_new,
    consent_withdraw,
)
from privacy.services.counter import (
    ticket_code_confirm,
    ticket_code_issue,
    ticket_counter_awaits,
    ticket_open_at_counter,
)
from privacy.services.erasure import (
    erasure_execute,
    erasure_execute_batch,
    retention_open_tickets,
    retention_subjects,
)
from privacy.services.erasure_log import erasure_log_lines, erasures_reapply
from privacy.services.notices import notice_publish
from privacy.services.tickets import (
    TRANSITIONS,
    ticket_approve,
    ticket_due_on,
    ticket_extend,
    ticket_link_check,
    ticket_link_confirm,
    ticket_link_issue,
    ticket_open_for_subject,
    ticket_reject,
    ticket_request_public,
    ticket_request_queue,
    ticket_request_take,
    ticket_verify,
    tickets_drop_unverified,
)
from privacy.services.withdrawal import withdrawal_execute

__all__ = [
    "ALL_PURPOSES",
    "TRANSITIONS",
    "ConsentGrant",
    "Withdrawal",
    "access_execute",
    "access_export_at_counter",
    "access_export_build",
    "access_export_csv",
    "access_export_json",
    "consent_attach",
    "consent_give",
    "consent_give_many",
    "consent_require",
    "consent_subject_new",
    "consent_withdraw",
    "erasure_execute",
    "erasure_execute_batch",
    "erasure_log_lines",
    "erasures_reapply",
    "notice_publish",
    "retention_open_tickets",
    "retention_subjects",
    "ticket_approve",
    "ticket_code_confirm",
    "ticket_code_issue",
    "ticket_counter_awaits",
    "ticket_due_on",
    "ticket_extend",
    "ticket_link_check",
    "ticket_link_confirm",
    "ticket_link_issue",
    "ticket_open_at_counter",
    "ticket_open_for_subject",
    "ticket_reject",
    "ticket_request_public",
    "ticket_request_queue",
    "ticket_request_take",
    "ticket_verify",
    "tickets_drop_unverified",
    "withdrawal_execute",
]
