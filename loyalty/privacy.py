"""Loyalty's part in the privacy rules: who its members are to privacy, and how their data go.

Registered from `LoyaltyConfig.ready()`. A member is the data subject "member:<id>". Loyalty's
consent purposes, channels and the eID withdrawal (`loyalty.purposes`) are registered here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.inputs import ascii_digits
from loyalty import selectors, services
from loyalty.models import (
    Coupon,
    EidCard,
    EidScan,
    LedgerEntry,
    Member,
    MemberRead,
    WalletDevice,
    WalletPass,
)
from loyalty.numbers import member_number_is_valid
from loyalty.purposes import EID_WITHDRAWAL, EID_WITHDRAWAL_LABEL, Channel, Purpose
from loyalty.services import webhooks
from loyalty.wallet import wallet_offer
from privacy.registry import ProcessingDeclaration, Subject, Traces, registry
from privacy.services.erasure_traces import (
    admin_log_counts,
    admin_log_scrub,
    admin_log_scrub_owned,
    consent_keys_attached_many,
    times_coarsen,
)

PREFIX = "member"


def member_subject_key(member: Member) -> str:
    """Return the pseudonymous key privacy knows this member by."""
    return f"{PREFIX}:{member.pk}"


def member_from_subject_key(subject_key: str) -> Member | None:
    """Return the member behind a subject key, or None (not a member key, or erased)."""
    prefix, _, value = (subject_key or "").partition(":")
    if prefix != PREFIX or not ascii_digits(value):
        return None
    return Member.objects.select_related("home_store").filter(pk=int(value)).first()


def _subject(member: Member) -> Subject:
    identifiers = tuple(v for v in ((member.email or "").lower(), member.number) if v)
    return Subject(
        key=member_subject_key(member),
        email=member.email or None,
        language=member.home_store.language,
        identifiers=identifiers,
    )


def subject_find(identifier: str) -> Subject | None:
    """Return the member known by this normalised e-mail address or member number."""
    members = Member.objects.select_related("home_store")
    if "@" in identifier:
        member = selectors.members_with_email(identifier, members).first()
    elif member_number_is_valid(identifier):
        member = members.filter(number=identifier).first()
    else:
        return None
    return _subject(member) if member else None


def subject_get(subject_key: str) -> Subject | None:
    member = member_from_subject_key(subject_key)
    return _subject(member) if member else None


def member_ids_from_subject_keys(subject_keys: list[str]) -> dict[str, int]:
    """Return {key: member id} for the keys that are member keys (whether or not erased)."""
    ids = {}
    for key in subject_keys:
        prefix, _, value = (key or "").partition(":")
        if prefix == PREFIX and ascii_digits(value):
            ids[key] = int(value)
    return ids


def subjects_get_many(subject_keys: list[str]) -> dict[str, Subject]:
    ids = member_ids_from_subject_keys(subject_keys)
    members = Member.objects.select_related("home_store").filter(pk__in=ids.values())
    return {member_subject_key(m): _subject(m) for m in members}


CHUNK = 2000


@transaction.atomic
def erase_members(subject_keys: list[str]) -> dict[str, dict[str, int]]:
    """Delete the members and their eID links; the ledger keeps amounts, store and day only.

    What stays must not chain one person's rows back together (rule 7): the unlinked rows lose
    their running balance and their time of day, the references and keys typed at the counter;
    the members' eID scans lose the key their consent was recorded under; the admin's change
    log loses the members' numbers and ids. Counts per subject, in a few statements whatever
    the number (one erasure is a batch of one). Idempotent: for a member already erased, every
    count is 0.
    """
    result = {key: dict.fromkeys(ERASED_KINDS, 0) for key in subject_keys}
    wanted = member_ids_from_subject_keys(subject_keys)
    present = set(Member.objects.filter(pk__in=wanted.values()).values_list("pk", flat=True))
    key_of = {pk: key for key, pk in wanted.items() if pk in present}
    if not key_of:
        return result
    ids = list(key_of)
    entries = LedgerEntry.objects.filter(member_id__in=ids)
    cards = EidCard.objects.filter(member_id__in=ids)
    attached = consent_keys_attached_many(subject_keys=list(key_of.values()))
    key_of_consent = {scan_key: key for key, keys in attached.items() for scan_key in keys}
    scan_owner: dict[object, str] = {}
    scans = EidScan.objects.filter(
        Q(member_id__in=ids) | Q(link_member_id__in=ids) | Q(consent_subject__in=key_of_consent)
    )
    for pk, member_id, link_id, consent in scans.values_list(
        "pk", "member_id", "link_member_id", "consent_subject"
    ):
        owner = key_of.get(member_id) or key_of.get(link_id) or key_of_consent.get(consent)
        scan_owner[pk] = owner
    # The admin log: matched in the database against the rows (a batch's ledger is thousands
    # of ids), counted per member from the few entries found.
    for rows, owner_field in (
        (Member.objects.filter(pk__in=ids), "pk"),
        (cards, "member_id"),
        (entries, "member_id"),
    ):
        for member_id, count in admin_log_scrub_owned(rows=rows, owner_field=owner_field).items():
            result[key_of[member_id]]["admin_log_entries_scrubbed"] += count
    if scan_owner:
        by_text = {str(pk): key for pk, key in scan_owner.items()}
        texts = list(by_text)
        for n in range(0, len(texts), CHUNK):  # a bound on query parameters (SQLite)
            chunk = texts[n : n + CHUNK]
            for object_id, count in admin_log_counts(model=EidScan, object_ids=chunk).items():
                result[by_text[object_id]]["admin_log_entries_scrubbed"] += count
            admin_log_scrub(model=EidScan, object_ids=chunk)
    scan_ids = list(scan_owner)
    for n in range(0, len(scan_ids), CHUNK):
        EidScan.objects.filter(pk__in=scan_ids[n : n + CHUNK]).update(
            consent_subject="", member=None, link_member=None
        )
    for member_id, n in _count_by_member(entries):
        result[key_of[member_id]]["ledger_entries_unlinked"] = n
    for member_id, n in _count_by_member(cards):
        result[key_of[member_id]]["eid_cards"] = n
    times_coarsen(entries, field="created_at")
    # References and idempotency keys may hold whatever was typed at the counter.
    entries.update(member=None, reference="", idempotency_key=None, balance_after=0, sale=None)
    cards.delete()
    Member.objects.filter(pk__in=ids).delete()
    for key in key_of.values():
        result[key]["members"] = 1
    for key in scan_owner.values():
        result[key]["eid_scans_unlinked"] += 1
    return result


def _count_by_member(rows) -> list[tuple[int, int]]:
    return list(
        rows.order_by().values("member_id").annotate(n=Count("pk")).values_list("member_id", "n")
    )


ERASED_KINDS = (
    "members",
    "eid_cards",
    "ledger_entries_unlinked",
    "eid_scans_unlinked",
    "admin_log_entries_scrubbed",
)
# What stays, without the person: the sales (accounting), the scans, what head office did.
KEPT_KINDS = ("ledger_entries_unlinked", "eid_scans_unlinked", "admin_log_entries_scrubbed")


def export_member(subject_key: str) -> dict[str, list[dict[str, Any]]]:
    """Return the member's profile and ledger as plain values."""
    member = member_from_subject_key(subject_key)
    if member is None:
        return {}
    profile = {
        "number": member.number,
        "given_name": member.given_name,
        "surname": member.surname,
        "email": member.email,
        "phone": member.phone,
        "joined_via": member.joined_via,
        "home_store": member.home_store.code,
        "status": member.status,
        "points_balance": member.points_balance,
        "tier": member.tier,
        "tier_points_12_months": member.tier_points,
        "eid_card_linked": EidCard.objects.filter(member=member).exists(),
        "created_at": member.created_at.isoformat(),
        "last_activity_at": member.last_activity_at.isoformat(),
    }
    ledger = [
        {
            "at": entry.created_at.isoformat(),
            "store": entry.store.code,
            "kind": entry.kind,
            "points": entry.points,
            "balance_after": entry.balance_after,
            "purchase_amount": (
                str(entry.purchase_amount) if entry.purchase_amount is not None else None
            ),
            "reward": entry.reward.name if entry.reward else None,
            "reference": entry.reference,
            "detail": entry.detail,
        }
        for entry in LedgerEntry.objects.filter(member=member)
        .select_related("store", "reward")
        .order_by("created_at", "pk")
    ]
    coupons = [
        {
            "code": c.code,
            "value": str(c.value) if c.value is not None else None,
            "product": c.product,
            "issued_at": c.issued_at.isoformat(),
            "expires_at": c.expires_at.isoformat(),
            "redeemed_at": c.redeemed_at.isoformat() if c.redeemed_at else None,
        }
        for c in Coupon.objects.filter(member=member).order_by("issued_at", "pk")
    ]
    return {"profile": [profile], "ledger": ledger, "coupons": coupons}


def erase_members_reads(subject_keys: list[str]) -> dict[str, dict[str, int]]:
    """Unlink the record of staff reads from the members: what staff did stays, not who."""
    key_of = {pk: key for key, pk in member_ids_from_subject_keys(subject_keys).items()}
    reads = MemberRead.objects.filter(member_id__in=list(key_of))
    counts = dict(reads.values("member_id").annotate(n=Count("pk")).values_list("member_id", "n"))
    reads.update(member=None)
    found = {key_of[m]: n for m, n in counts.items()}
    return {key: {"member_reads_unlinked": found.get(key, 0)} for key in subject_keys}


def erase_members_wallet(subject_keys: list[str]) -> dict[str, dict[str, int]]:
    """Delete the members' wallet passes and the phones registered for their updates."""
    key_of = {pk: key for key, pk in member_ids_from_subject_keys(subject_keys).items()}
    passes = WalletPass.objects.filter(member_id__in=list(key_of))
    owner = dict(passes.values_list("pk", "member_id"))
    devices = WalletDevice.objects.filter(wallet_pass_id__in=list(owner))
    per_pass = dict(
        devices.values("wallet_pass_id").annotate(n=Count("pk")).values_list("wallet_pass_id", "n")
    )
    result = {key: {"wallet_passes": 0, "wallet_devices": 0} for key in subject_keys}
    for pass_id, member_id in owner.items():
        result[key_of[member_id]]["wallet_passes"] += 1
        result[key_of[member_id]]["wallet_devices"] += per_pass.get(pass_id, 0)
    devices.delete()
    passes.delete()
    return result


def export_member_wallet(subject_key: str) -> dict[str, list[dict[str, Any]]]:
    """Return the member's wallet pass and when phones registered for its updates."""
    member = member_from_subject_key(subject_key)
    found = WalletPass.objects.filter(member=member).first() if member else None
    if found is None:
        return {}
    devices = found.devices.order_by("registered_at", "pk")
    return {
        "wallet_pass": [
            {
                "serial": found.serial,
                "issued_at": found.issued_at.isoformat(),
                "phones_registered_at": [d.registered_at.isoformat() for d in devices],
            }
        ]
    }


def export_member_reads(subject_key: str) -> dict[str, list[dict[str, Any]]]:
    """Return when, at which store and how staff read the member's data (Art. 15)."""
    member = member_from_subject_key(subject_key)
    if member is None:
        return {}
    reads = (
        MemberRead.objects.filter(member=member).select_related("store").order_by("read_at", "pk")
    )
    return {
        "member_reads": [
            {
                "at": r.read_at.isoformat(),
                "store": r.store.code,
                "found_by": r.found_by,
                "what": r.kind,
            }
            for r in reads
        ]
    }


def member_recipients(subject_key: str) -> list[str]:
    """Name who received the member's data outside the chain: mail delivery, Apple Wallet, and
    the webhook endpoints that were sent events about them."""
    member = member_from_subject_key(subject_key)
    if member is None:
        return []
    # Kept in English on the ticket (its proof); the dashboard shows it translated.
    recipients = [gettext_noop("outgoing e-mail provider (EMAIL_URL)")] if member.email else []
    if WalletDevice.objects.filter(wallet_pass__member=member).exists():
        # A phone registered for the pass's updates: Apple's push service holds its token.
        recipients.append(gettext_noop("Apple (Apple Wallet: the pass in the member's phone)"))
    return recipients + webhooks.webhook_recipients_of(member.pk)


def erase_members_webhooks(subject_keys: list[str]) -> dict[str, dict[str, int]]:
    """Drop the members' webhook deliveries not sent yet, empty the sent ones, and tell the
    endpoints that had their data that they were erased (rule 8). Runs before `erase_members`:
    it needs the members' numbers."""
    wanted = member_ids_from_subject_keys(subject_keys)
    numbers = dict(Member.objects.filter(pk__in=wanted.values()).values_list("pk", "number"))
    counts = webhooks.webhooks_member_erase(numbers)
    result = {key: dict.fromkeys(WEBHOOK_KINDS, 0) for key in subject_keys}
    for key, pk in wanted.items():
        result[key].update(counts.get(pk, {}))
    return result


WEBHOOK_KINDS = ("webhook_deliveries_dropped", "webhook_deliveries_scrubbed", "webhooks_told")


def members_inactive(cutoff: datetime) -> Iterable[str]:
    """Return the keys of members with no activity since the cutoff."""
    ids = (
        Member.objects.filter(last_activity_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [f"{PREFIX}:{pk}" for pk in ids.iterator(chunk_size=5000)]


def members_all() -> Iterable[str]:
    """Return the keys of every member (a restore re-applies erasures to any of them)."""
    ids = Member.objects.order_by("pk").values_list("pk", flat=True)
    return (f"{PREFIX}:{pk}" for pk in ids.iterator(chunk_size=5000))


def eid_consent_withdrawn(subject_key: str) -> dict[str, int]:
    """Remove the eID link when its consent is withdrawn; nothing else about the member changes.

    Returns how many links went (0: the member had none, or is no longer a member).
    """
    member = member_from_subject_key(subject_key)
    if member is None:
        return {"eid_cards_unlinked": 0}
    return {"eid_cards_unlinked": int(services.member_eid_unlink(member=member))}


def _membership_recipients() -> tuple[str, ...]:
    """The mail provider, and the wallet providers the chain has set up (loyalty.wallet)."""
    offer = wallet_offer()
    recipients = [_("outgoing e-mail provider (EMAIL_URL)")]
    if offer.apple:
        recipients.append(
            _("Apple (Apple Wallet): member number and points, when a member adds the card")
        )
    if offer.google:
        recipients.append(
            _(
                "Google (Google Wallet): member number and points, when a member adds the "
                "card (the chain's loyalty class)"
            )
        )
    # Every till or CRM that receives webhooks (head office adds them in the office).
    recipients += webhooks.webhook_endpoints_named()
    return tuple(recipients)


def _retention_text() -> str:
    return _(
        "%(months)s months after the last purchase or redemption, or on request; the "
        "ledger's amounts, store and day are then kept without the link to the person "
        "(accounting)"
    ) % {"months": settings.PRIVACY_RETENTION_MONTHS}


DECLARATIONS = (
    ProcessingDeclaration(
        code=Purpose.EID_RECOGNITION.value,
        title=_("Recognising a member by their eID card"),
        legal_basis=_("consent (GDPR Art. 6(1)(a)), recorded in the consent log"),
        data_categories=(
            _("given name and surname as on the card"),
            _("keyed hash (HMAC-SHA256) of the card number; never the national register number"),
        ),
        recipients=(_("none outside the chain"),),
        retention=(
            _("until eID consent is withdrawn (the link is then removed) or the member is erased")
        ),
        app="loyalty",
        stored_in=("loyalty.EidCard",),
    ),
    ProcessingDeclaration(
        code=Purpose.LOYALTY_MEMBERSHIP.value,
        title=_("Loyalty membership: points, rewards, recognising members at the counter"),
        legal_basis=_("the membership agreement (GDPR Art. 6(1)(b)); consent where recorded"),
        data_categories=(
            _("given name and surname"),
            _("e-mail address and phone number (members who join by form)"),
            _("member number, home store, status, points balance"),
            _("points ledger: store, time, purchase amount, points, rewards"),
            _(
                "the card in the phone: the pass's serial, and the phones registered for its "
                "updates (Apple's push token)"
            ),
        ),
        recipients=_membership_recipients,
        retention=_retention_text,
        app="loyalty",
        stored_in=(
            "loyalty.Member",
            "loyalty.LedgerEntry",
            "loyalty.WalletPass",
            "loyalty.WalletDevice",
        ),
    ),
    ProcessingDeclaration(
        code=Purpose.MARKETING_EMAIL.value,
        title=_("Offers by e-mail"),
        legal_basis=_("consent (GDPR Art. 6(1)(a); Belgian Code of Economic Law, XII.13)"),
        data_categories=(_("e-mail address"), _("language")),
        recipients=(_("outgoing e-mail provider (EMAIL_URL)"),),
        retention=_("until consent is withdrawn or the member is erased"),
        app="loyalty",
        stored_in=("loyalty.Member",),
    ),
)


# Not a consent purpose: the record of staff reads that accountability asks for (rule 9).
ACCOUNTABILITY = ProcessingDeclaration(
    code="staff_accountability",
    title=_("Record of staff reading a member's data at the counter"),
    legal_basis=_("accountability and security of processing (GDPR Art. 5(2), 32; Art. 6(1)(c))"),
    data_categories=(
        _("member, staff member, store, time, how the member was found (never what was typed)"),
    ),
    recipients=(_("none outside the chain"),),
    retention=_("as long as the member exists; unlinked from the member when they are erased"),
    app="loyalty",
    stored_in=("loyalty.MemberRead",),
)


MEASURES = (
    (
        "eid_minimised",
        _("Minimised reads of the eID card"),
        _(
            "The reader sends only the name and a keyed hash of the card number. The national "
            "register number, birth date, gender, address and photo never leave the reader; "
            "the schema check fails on a field that could hold them."
        ),
    ),
    (
        "eid_keyed_hash",
        _("Keyed hashes of the card number"),
        _(
            "The card number is hashed by the reader with the chain's key and again by the "
            "server with its own key (HMAC-SHA256): the stored value cannot be computed from "
            "a card without both keys."
        ),
    ),
    (
        "equal_alternative",
        _("An equal alternative to the card"),
        _(
            "Customers who do not want their card read join with a form (name, e-mail, "
            "phone) and get the same benefits: the points rules never receive the member, "
            "and the compliance check fails on a benefit out of a form member's reach."
        ),
    ),
    (
        "access_records",
        _("Access records"),
        _(
            "Staff reach a member only through what the customer presents, and every read "
            "of a member's data is recorded: who, when, which store, how the member was found."
        ),
    ),
    (
        "counter_confirmation",
        _("No erasure or export by a cashier alone"),
        _(
            "A request opened at the counter waits for the member's confirmation: their card "
            "scanned now, a code sent to their e-mail address, or a second person at head office."
        ),
    ),
)


def register() -> None:
    """Plug loyalty into privacy's registry (called once, from LoyaltyConfig.ready)."""
    registry.register_resolver(
        PREFIX, find=subject_find, get=subject_get, get_many=subjects_get_many
    )
    # Reads first: the member's row goes with `erase_members`.
    registry.register_eraser(
        "loyalty.reads",
        order=50,
        covers=("loyalty.MemberRead",),
        keeps=("member_reads_unlinked",),
        labels={"member_reads_unlinked": _("records of staff reads, without the member")},
        erase_many=erase_members_reads,
    )
    registry.register_eraser(
        "loyalty.wallet",
        order=45,
        covers=("loyalty.WalletPass", "loyalty.WalletDevice"),
        labels={
            "wallet_passes": _("wallet passes issued"),
            "wallet_devices": _("phones registered for a pass's updates"),
        },
        erase_many=erase_members_wallet,
    )
    registry.register_eraser(
        "loyalty",
        covers=(
            "loyalty.Member",
            "loyalty.EidCard",
            "loyalty.LedgerEntry",
            "loyalty.EidScan",
            # Deleted with the member (coupons) or kept without them (a campaign's uses).
            "loyalty.Coupon",
            "loyalty.CampaignApplication",
            # The admin edits members only; their log entries are scrubbed with them.
            "admin.LogEntry",
        ),
        keeps=KEPT_KINDS,
        labels={
            "members": _("member profiles"),
            "eid_cards": _("eID card links"),
            "ledger_entries_unlinked": _(
                "ledger rows kept for the accounts: no member, balance or time of day"
            ),
            "eid_scans_unlinked": _("eID scans, without member or consent key"),
            "admin_log_entries_scrubbed": _("admin log entries, without the member's number"),
        },
        erase_many=erase_members,
    )
    registry.declare_traces(
        "loyalty.Reward",
        "loyalty.Reward_stores",
        "loyalty.ExpiryWatermark",
        traces=Traces.NONE,
        reason="the rewards catalogue and the expiry job's position: no person's data",
    )
    # Before the member's row goes: the erased event names the member's number.
    registry.register_eraser(
        "loyalty.webhooks",
        order=60,
        covers=("loyalty.WebhookDelivery",),
        keeps=("webhook_deliveries_scrubbed",),
        labels={
            "webhook_deliveries_dropped": _("webhook deliveries not sent yet, dropped"),
            "webhook_deliveries_scrubbed": _("webhook deliveries kept in the log, emptied"),
            "webhooks_told": _("webhook endpoints told of the erasure"),
        },
        erase_many=erase_members_webhooks,
    )
    registry.declare_traces(
        "loyalty.ParityRun",
        traces=Traces.NONE,
        reason=(
            "the equal-benefits parity check's results: made-up members, rolled back with all "
            "they did; no member link"
        ),
    )
    registry.declare_traces(
        "loyalty.WebhookEndpoint",
        traces=Traces.STAFF,
        reason="a till's or CRM's address and sealed secret, and the staff account that added it",
    )
    registry.register_exporter("loyalty", export_member)
    registry.register_exporter("loyalty.reads", export_member_reads)
    registry.register_exporter("loyalty.wallet", export_member_wallet)
    registry.register_recipients("loyalty", member_recipients)
    registry.register_retention("loyalty", members_inactive)
    registry.register_subjects("loyalty", members_all)
    registry.register_withdrawal_hook(Purpose.EID_RECOGNITION.value, eid_consent_withdrawn)
    from loyalty.receipts import member_receipt_facts

    registry.register_receipt_source(PREFIX, member_receipt_facts)
    registry.declare(ACCOUNTABILITY)
    for code, title, text in MEASURES:
        registry.declare_measure(code, title=title, text=text, app="loyalty")
    for declaration in DECLARATIONS:
        registry.register_purpose(
            declaration.code,
            label=Purpose(declaration.code).label,
            declaration=declaration,
            # Withdrawing the membership ends it: the member's data are erased.
            erases_on_withdrawal=declaration.code == Purpose.LOYALTY_MEMBERSHIP,
        )
    for channel in Channel:
        registry.register_channel(channel.value, label=channel.label)
    registry.register_withdrawal_kind(
        EID_WITHDRAWAL,
        purpose=Purpose.EID_RECOGNITION.value,
        label=EID_WITHDRAWAL_LABEL,
        path="eid/",
        url_name="eid-withdrawal-request",
    )
