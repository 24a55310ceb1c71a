"""Privacy's own processing activities (Art. 30), channels and ticket kinds."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from privacy.models import Channel, TicketKind
from privacy.registry import ProcessingDeclaration, Traces, registry

for channel in Channel:
    registry.register_channel(channel.value, label=channel.label)
for kind in TicketKind:
    registry.register_ticket_kind(kind.value, label=kind.label)


def _request_retention() -> str:
    return _(
        "unverified requests: deleted after %(days)s days; handled requests: kept as proof "
        "without personal data (counts, dates, keyed hash of the requester's address)"
    ) % {"days": settings.PRIVACY_UNVERIFIED_DROP_DAYS}


registry.declare(
    ProcessingDeclaration(
        code="consent_log",
        title=_("Proof of consent"),
        legal_basis=_("legal obligation to demonstrate consent (GDPR Art. 7(1), Art. 6(1)(c))"),
        data_categories=(
            _("pseudonymous subject key and its keyed digest"),
            _("purpose, consent given or withdrawn"),
            _("notice version and language shown"),
            _("channel, store, staff member, reader device, time"),
        ),
        recipients=(_("none outside the chain"),),
        retention=(
            _(
                "for as long as consent can be relied on; on erasure the subject key is removed "
                "and only its keyed digest stays in the hash chain"
            )
        ),
        app="privacy",
        stored_in=("privacy.ConsentRecord", "privacy.NoticeVersion"),
    )
)

registry.declare(
    ProcessingDeclaration(
        code="privacy_requests",
        title=_("Handling erasure and access requests"),
        legal_basis=_("legal obligation (GDPR Art. 12, 15, 17, 20; Art. 6(1)(c))"),
        data_categories=(
            _("pseudonymous subject key (removed on erasure)"),
            _("keyed hash of the requester's e-mail address or member number"),
            _("request history: states, dates, staff member, reasons"),
        ),
        recipients=(_("the customer (confirmation links, exports by e-mail)"),),
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
    "stores.ChainSettings",
    "stores.EarningRule",
    "stores.Tier",
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
    "stores.Campaign",
    "axes.AccessAttempt",
    "axes.AccessAttemptExpiration",
    "axes.AccessFailureLog",
    "axes.AccessLog",
    traces=Traces.STAFF,
    reason=(
        "staff accounts, their roles, sign-ins, API tokens (digests, expiring), the readers "
        "they registered and the campaigns they composed; a customer's signed-in visit (an "
        "app's own pages) holds only their subject's id, for minutes, and an erased subject's "
        "id finds nobody"
    ),
)
registry.declare_traces(
    "privacy.ErasureRecord",
    traces=Traces.PROOF,
    reason="the erasure log (rule 9b): a keyed hash of an erased subject's key, date, ticket",
)


# Measures (Art. 25, 32) for the impact assessment's draft (dashboard: compliance).
for code, title, text in (
    (
        "consent_proof",
        _("Consent recorded as proof"),
        _(
            "Every consent and withdrawal is a record in an append-only log chained by hashes: "
            "purpose, notice version and language, channel, store, staff member, time. The "
            "chain is verified by a command and on the office's pages."
        ),
    ),
    (
        "erasure_everywhere",
        _("Erasure in every app, previewed and re-scanned"),
        _(
            "Each app registers how it erases a person. Head office sees what goes and what "
            "stays before approving; after erasing, the same scan runs again and must find "
            "nothing. Sales kept for the accounts lose the link to the person, the running "
            "balance and the time of day; the admin's change log loses the member's number."
        ),
    ),
    (
        "erasure_coverage",
        _("Every model accounted for"),
        _(
            "A test and the compliance check walk every model of every installed app: each is "
            "covered by an eraser or declared as holding no member data."
        ),
    ),
    (
        "erasure_log",
        _("Backups do not bring erased people back"),
        _(
            "An erasure log without personal data (keyed hashes) is re-applied after a "
            "backup is restored."
        ),
    ),
    (
        "requests_minimal",
        _("Requests identified with the least data"),
        _(
            "A request is confirmed by a link or code sent to the address on file, or by the "
            "card presented at the counter; never with a copy of an identity document. "
            "Requesters are kept as a keyed hash only."
        ),
    ),
    (
        "deadlines",
        _("Deadlines and retention watched"),
        _(
            "Requests are due one month after receipt; members inactive for the retention "
            "period are erased every night; the compliance check fails on an overdue request "
            "or a retention job that stopped."
        ),
    ),
):
    registry.declare_measure(code, title=title, text=text, app="privacy")
