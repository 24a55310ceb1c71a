"""Privacy's own processing activities (Art. 30), channels and ticket kinds."""

from __future__ import annotations

from django.conf import settings

from privacy.models import Channel, TicketKind
from privacy.registry import ProcessingDeclaration, Traces, registry

for channel in Channel:
    registry.register_channel(channel.value, label=channel.label)
for kind in TicketKind:
    registry.register_ticket_kind(kind.value, label=kind.label)


def _request_retention() -> str:
    return (
        f"unverified requests: deleted after {settings.PRIVACY_UNVERIFIED_DROP_DAYS} days; "
        "handled requests: kept as proof without personal data (counts, dates, keyed hash of "
        "the requester's address)"
    )


registry.declare(
    ProcessingDeclaration(
        code="consent_log",
        title="Proof of consent",
        legal_basis="legal obligation to demonstrate consent (GDPR Art. 7(1), Art. 6(1)(c))",
        data_categories=(
            "pseudonymous subject key and its keyed digest",
            "purpose, consent given or withdrawn",
            "notice version and language shown",
            "channel, store, staff member, reader device, time",
        ),
        recipients=("none outside the chain",),
        retention=(
            "for as long as consent can be relied on; on erasure the subject key is removed "
            "and only its keyed digest stays in the hash chain"
        ),
        app="privacy",
        stored_in=("privacy.ConsentRecord", "privacy.NoticeVersion"),
    )
)

registry.declare(
    ProcessingDeclaration(
        code="privacy_requests",
        title="Handling erasure and access requests",
        legal_basis="legal obligation (GDPR Art. 12, 15, 17, 20; Art. 6(1)(c))",
        data_categories=(
            "pseudonymous subject key (removed on erasure)",
            "keyed hash of the requester's e-mail address or member number",
            "request history: states, dates, staff member, reasons",
        ),
        recipients=("the customer (confirmation links, exports by e-mail)",),
        retention=_request_retention,
        app="privacy",
        stored_in=("privacy.PrivacyTicket", "privacy.TicketTransition"),
    )
)


# What the models no eraser covers hold of people (privacy.services.erasure_coverage).
registry.declare_traces(
    "auth.Permission",
    "auth.Group",
    "auth.Group_permissions",
    "contenttypes.ContentType",
    "stores.Store",
    "stores.EarningRule",
    "stores.Campaign",
    "privacy.NoticeVersion",
    "privacy.ConsentLogHead",
    "privacy.RetentionRun",
    traces=Traces.NONE,
    reason="configuration and the chain's own records: no person's data",
)
registry.declare_traces(
    "auth.User",
    "auth.User_groups",
    "auth.User_user_permissions",
    "sessions.Session",
    "stores.StaffAssignment",
    "stores.StaffToken",
    "stores.ReaderDevice",
    "axes.AccessAttempt",
    "axes.AccessAttemptExpiration",
    "axes.AccessFailureLog",
    "axes.AccessLog",
    traces=Traces.STAFF,
    reason=(
        "staff accounts, their roles, sign-ins, API tokens (digests, expiring) and the readers "
        "they registered; members never sign in, and the public pages keep no session"
    ),
)
registry.declare_traces(
    "privacy.ErasureRecord",
    traces=Traces.PROOF,
    reason="the erasure log (rule 9b): a keyed hash of an erased subject's key, date, ticket",
)
