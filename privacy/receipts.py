"""Consent receipts: what the customer agreed to, in writing, after every consent.

After an eID enrolment or a form join the customer receives a receipt (by e-mail where there
is an address, and as a slip printed at the counter): the controller and its contact, each
purpose with its legal basis, the notice shown (version and language), what was taken and kept,
what was read and not kept, what was never read, the time, and how to withdraw.

Its fields follow the Kantara Initiative Consent Receipt Specification v1.1 (`version`,
`jurisdiction`, `consentTimestamp`, `collectionMethod`, `consentReceiptID`, `language`,
`piiPrincipalId`, `piiControllers`, `policyUrl`, `services` / `purposes`, `sensitive`,
`spiCat`), with the notice and record references ISO/IEC TS 27560 adds (`notice`, `legalBasis`,
`consentRecord`, `withdrawal`) and what was not collected (`piiNotKept`, `piiNotCollected`).

Privacy knows nothing of loyalty: the facts come from the receipt sources apps register
(`registry.register_receipt_source`); privacy adds the controller, notices, withdrawal routes
and the identifier, and sends the mail through its outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from core.errors import NoticeMissing
from privacy.models import NoticeVersion
from privacy.registry import LEGAL_BASIS_CONSENT, ReceiptFacts, ReceiptPurpose, registry

RECEIPT_VERSION = "KI-CR-v1.1.0"
JURISDICTION = "BE"
RECEIPT_TASK = "privacy.tasks.consent_receipt_send"


@dataclass(frozen=True)
class ReceiptLine:
    """One purpose on the receipt, its texts in the receipt's language."""

    purpose: str
    label: str
    legal_basis: str
    legal_basis_label: str
    primary: bool
    notice: NoticeVersion | None
    consent_seq: int | None
    given_by_guardian: bool
    kept: tuple[str, ...]
    read_not_kept: tuple[str, ...]
    not_collected: tuple[str, ...]
    withdraw_url: str
    withdraw_text: str


@dataclass(frozen=True)
class ConsentReceipt:
    receipt_id: str
    language: str
    controller: str
    controller_contact: str
    policy_url: str
    principal_id: str
    channel: str
    channel_label: str
    store: str
    at: datetime
    lines: tuple[ReceiptLine, ...]
    links: tuple[tuple[str, str], ...] = ()  # the mail's own links (label, URL)


def _controller() -> tuple[str, str, str]:
    """Return the controller's name, data-protection contact and public site address.

    As head office set them in the dashboard (Chain), else from settings.
    """
    from stores.selectors import chain_settings

    chain = chain_settings()
    return chain.name, chain.privacy_contact, chain.site_url


def _notice(purpose: ReceiptPurpose, language: str) -> NoticeVersion | None:
    """Return the notice the line refers to: the one shown, else the current one for its
    language (English when none was published in it)."""
    if purpose.record is not None:
        return purpose.record.notice
    from privacy.selectors import notice_current

    for candidate in dict.fromkeys((language, "en")):
        try:
            return notice_current(purpose=purpose.purpose, language=candidate)
        except NoticeMissing:
            continue
    return None


def _withdrawal(purpose: str, language: str, subject_key: str) -> tuple[str, str]:
    """Return where and how the customer withdraws consent for (or ends) a purpose: the route
    the app registered for this subject (their own page, an unsubscribe link), else privacy's
    public forms."""
    from privacy.mail import site_url

    route = registry.withdrawal_routes.get(purpose)
    found = route(subject_key, language) if route else None
    if found is not None:
        return found
    kind = next((k for k in registry.withdrawal_kinds.values() if k.purpose == purpose), None)
    registered = registry.purposes.get(purpose)
    if kind is not None:
        url = site_url(f"privacy:{kind.url_name}", language=language)
        return url, _(
            "Withdraw at any counter (one action), or online at %(url)s. You keep your member "
            "number, points and rewards."
        ) % {"url": url}
    if registered is not None and registered.erases_on_withdrawal:
        url = site_url("privacy:erasure-request", language=language)
        return url, _(
            "End it at any counter, or online at %(url)s: your data are then erased, within "
            "one month at the latest."
        ) % {"url": url}
    url = site_url("privacy:erasure-request", language=language)
    return url, _("Withdraw at any counter, or online at %(url)s.") % {"url": url}


def _receipt_id(facts: ReceiptFacts, subject_key: str) -> str:
    """Return a receipt id that is the same on the slip and in the mail, and says nothing."""
    seqs = ",".join(str(p.record.seq) for p in facts.purposes if p.record is not None)
    message = f"consent-receipt\x00{subject_key}\x00{facts.at.isoformat()}\x00{seqs}"
    digest = hmac.new(settings.PRIVACY_HASH_KEY.encode(), message.encode(), hashlib.sha256)
    return str(uuid.UUID(bytes=digest.digest()[:16], version=4))


def _languages() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def consent_receipt(*, subject_key: str, language: str | None = None) -> ConsentReceipt | None:
    """Return the receipt of the subject's consent, in `language` (default: the customer's),
    or None when no app knows the subject any more."""
    source = registry.receipt_sources.get((subject_key or "").partition(":")[0])
    facts = source(subject_key) if source else None
    if facts is None:
        return None
    language = language if language in _languages() else facts.language
    language = language if language in _languages() else settings.LANGUAGE_CODE
    name, contact, site = _controller()
    with translation.override(language):
        lines = []
        for p in facts.purposes:
            withdraw_url, withdraw_text = _withdrawal(p.purpose, language, subject_key)
            consent = p.legal_basis == LEGAL_BASIS_CONSENT
            lines.append(
                ReceiptLine(
                    purpose=p.purpose,
                    label=str(registry.purpose_label(p.purpose)),
                    legal_basis=p.legal_basis,
                    legal_basis_label=(
                        _("your consent (GDPR Art. 6(1)(a))")
                        if consent
                        else _("the membership agreement (GDPR Art. 6(1)(b))")
                    ),
                    primary=p.primary,
                    notice=_notice(p, language),
                    consent_seq=p.record.seq if p.record is not None else None,
                    given_by_guardian=bool(p.record and p.record.given_by == "guardian"),
                    kept=tuple(str(s) for s in p.kept),
                    read_not_kept=tuple(str(s) for s in p.read_not_kept),
                    not_collected=tuple(str(s) for s in p.not_collected),
                    withdraw_url=withdraw_url,
                    withdraw_text=withdraw_text,
                )
            )
        channel_label = str(registry.channels.get(facts.channel, facts.channel))
        links = tuple((str(label), url) for label, url in facts.links)
    return ConsentReceipt(
        receipt_id=_receipt_id(facts, subject_key),
        language=language,
        controller=name,
        controller_contact=contact,
        policy_url=f"{site}/",
        principal_id=facts.principal_id,
        channel=facts.channel,
        channel_label=channel_label,
        store=facts.store_name,
        at=facts.at,
        lines=tuple(lines),
        links=links,
    )


def consent_receipt_json(receipt: ConsentReceipt) -> dict:
    """Return the receipt as a Kantara Consent Receipt v1.1 object (ISO/IEC TS 27560 terms
    where Kantara has none)."""
    purposes = [
        {
            "purpose": line.label,
            "purposeCode": line.purpose,
            "purposeCategory": [line.purpose],
            "consentType": "EXPLICIT" if line.legal_basis == LEGAL_BASIS_CONSENT else "N/A",
            "legalBasis": line.legal_basis,
            "piiCategory": list(line.kept),
            "piiNotKept": list(line.read_not_kept),
            "piiNotCollected": list(line.not_collected),
            "primaryPurpose": line.primary,
            "termination": line.withdraw_text,
            "thirdPartyDisclosure": False,
            "notice": (
                {
                    "version": line.notice.version,
                    "language": line.notice.language,
                    "sha256": line.notice.content_hash,
                    "text": line.notice.text,
                }
                if line.notice
                else None
            ),
            "consentRecord": line.consent_seq,
            "givenBy": "guardian" if line.given_by_guardian else "subject",
            "withdrawal": {"url": line.withdraw_url, "atCounter": True},
        }
        for line in receipt.lines
    ]
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": JURISDICTION,
        "consentTimestamp": int(receipt.at.timestamp()),
        "consentTime": receipt.at.isoformat(),
        "collectionMethod": receipt.channel_label,
        "collectionChannel": receipt.channel,
        "consentReceiptID": receipt.receipt_id,
        "language": receipt.language,
        "piiPrincipalId": receipt.principal_id,
        "piiControllers": [
            {
                "piiController": receipt.controller,
                "contact": receipt.controller_contact,
                "email": receipt.controller_contact,
                "piiControllerUrl": receipt.policy_url,
                "onBehalf": False,
            }
        ],
        "policyUrl": receipt.policy_url,
        "collectedAt": receipt.store,
        "services": [{"service": receipt.controller, "purposes": purposes}],
        "sensitive": False,
        "spiCat": [],
    }


def consent_receipt_mail_put(*, subject_key: str) -> None:
    """Queue the receipt's mail to the subject: sent once this transaction commits, and again
    by the outbox's sweeper if the broker or the mail server was down."""
    from privacy.outbox import outbox_put

    outbox_put(task=RECEIPT_TASK, args=(subject_key,))


def consent_receipt_mail_send(*, subject_key: str) -> bool:
    """Mail the subject their consent receipt, with its JSON form; return whether one went.

    Nothing goes to a subject without an e-mail address on file, nor to one erased meanwhile.
    """
    from privacy.mail import mail_send

    subject = registry.subject_get(subject_key)
    if subject is None or not subject.email:
        return False
    receipt = consent_receipt(subject_key=subject_key)
    if receipt is None:
        return False
    mail_send(
        to=subject.email,
        language=receipt.language,
        template="consent_receipt",
        context={"receipt": receipt},
        attachments=[
            (
                f"consent-receipt-{receipt.receipt_id}.json",
                json.dumps(consent_receipt_json(receipt), ensure_ascii=False, indent=2),
                "application/json",
            )
        ],
    )
    return True
