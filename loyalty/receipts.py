"""What loyalty states on a member's consent receipt: per purpose, what it keeps, what it
reads and does not keep, and what it never reads. Privacy builds the receipt from these
(`privacy.receipts`); the texts are the ones the notices promise, for the card actually read.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from loyalty.models import EidScan, JoinChannel, Member, ReadMethod, ScanState
from loyalty.purposes import Channel, Purpose
from loyalty.wallet import wallet_link_issue, wallet_offer
from privacy.mail import site_url
from privacy.registry import (
    LEGAL_BASIS_CONSENT,
    LEGAL_BASIS_CONTRACT,
    ReceiptFacts,
    ReceiptPurpose,
)
from privacy.selectors import consent_in_force

NAME = _("your surname and first given name")
CARD_FINGERPRINT = _("a keyed fingerprint of your card number (never the number itself)")
CARD_NUMBER = _("your card number (only to make the fingerprint)")
GIVEN_NAMES = _("your other given names")
CARD_TYPE = _("the card type (only to know whether it is a child's card)")
IDENTITY_FILE = _(
    "the card's whole identity file, national register number, date of birth and sex "
    "included: held for a moment in the reader's memory (older cards), then wiped"
)
NEVER_FROM_CARD = (
    _("your national register number"),
    _("your date of birth"),
    _("your sex"),
)
NEVER_ANY = (_("your address"), _("your photo"))
MEMBERSHIP = (
    _("your member number and home store"),
    _("your purchases at our stores, points and rewards"),
)
FORM_GIVEN = (
    _("the given name and surname you gave"),
    _("the e-mail address and phone number you gave"),
)
FORM_NOT = (
    _("nothing from an identity card"),
    _("your address"),
    _("your date of birth"),
)


def _eid_purpose(member: Member, record) -> ReceiptPurpose:
    scan = (
        EidScan.objects.filter(member=member, state=ScanState.COMPLETED)
        .order_by("-finished_at", "-created_at")
        .first()
    )
    anonymous = member.joined_via == JoinChannel.EID_ANONYMOUS
    whole_file = scan is not None and scan.read_method == ReadMethod.READ_BINARY
    kept = (CARD_FINGERPRINT,) if anonymous else (NAME, CARD_FINGERPRINT)
    read_not_kept = (CARD_NUMBER, CARD_TYPE) if anonymous else (CARD_NUMBER, GIVEN_NAMES, CARD_TYPE)
    if whole_file:
        read_not_kept = (*read_not_kept, IDENTITY_FILE)
        not_collected = NEVER_ANY
    else:
        not_collected = (*NEVER_FROM_CARD, *NEVER_ANY)
    return ReceiptPurpose(
        purpose=Purpose.EID_RECOGNITION,
        legal_basis=LEGAL_BASIS_CONSENT,
        record=record,
        kept=kept,
        read_not_kept=read_not_kept,
        not_collected=not_collected,
    )


def _wallet_link(member: Member, language: str) -> tuple[tuple[object, str], ...]:
    """The member's own page to add the card to their phone, when the chain set up a wallet."""
    if not wallet_offer().any:
        return ()
    url = site_url("member-wallet", language=language, token=wallet_link_issue(member))
    return ((_("Add your card to your phone's wallet"), url),)


def member_receipt_facts(subject_key: str) -> ReceiptFacts | None:
    """Return the facts of the member's consent receipt: the eID consent they gave (if they
    gave it and it stands), the membership, and offers by e-mail if they opted in."""
    from loyalty.privacy import member_from_subject_key

    member = member_from_subject_key(subject_key)
    if member is None:
        return None
    purposes = []
    eid = consent_in_force(subject_key=subject_key, purpose=Purpose.EID_RECOGNITION)
    if eid is not None:
        purposes.append(_eid_purpose(member, eid))
    by_form = member.joined_via == JoinChannel.FORM
    purposes.append(
        ReceiptPurpose(
            purpose=Purpose.LOYALTY_MEMBERSHIP,
            legal_basis=LEGAL_BASIS_CONTRACT,
            kept=(*FORM_GIVEN, *MEMBERSHIP) if by_form else MEMBERSHIP,
            not_collected=FORM_NOT if by_form else (),
            primary=not purposes,
        )
    )
    marketing = consent_in_force(subject_key=subject_key, purpose=Purpose.MARKETING_EMAIL)
    if marketing is not None:
        purposes.append(
            ReceiptPurpose(
                purpose=Purpose.MARKETING_EMAIL,
                legal_basis=LEGAL_BASIS_CONSENT,
                record=marketing,
                kept=(_("your e-mail address and language"),),
                primary=False,
            )
        )
    language = eid.language if eid else member.home_store.language
    return ReceiptFacts(
        principal_id=member.number,
        language=language,
        channel=eid.channel if eid else Channel.COUNTER_FORM,
        store_name=str(eid.store.name if eid and eid.store else member.home_store.name),
        at=eid.created_at if eid else member.created_at,
        purposes=tuple(purposes),
        links=_wallet_link(member, language),
    )
