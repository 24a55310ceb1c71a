"""The domain's errors in a cashier's words, by stable code, in the interface language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError

MESSAGES = {
    "invalid_input": _("Some fields are missing or invalid."),
    "store_forbidden": _("You do not work for this store."),
    "store_not_found": _("No such store."),
    "store_inactive": _("This store is closed for loyalty operations."),
    "member_not_found": _("No such member."),
    "member_exists": _("A member with this e-mail address or phone number already exists."),
    "member_inactive": _("This membership is not active."),
    "invalid_member_number": _("This member number has a typo: check the digits."),
    "invalid_email": _("This is not a valid e-mail address."),
    "invalid_phone": _("This is not a valid phone number."),
    "invalid_amount": _("Type the purchase amount in euros, for example 12.50."),
    "amount_not_plain": _("Type the purchase amount in euros, for example 12.50."),
    "invalid_points": _("Type a whole number of points, more than zero."),
    "insufficient_points": _("The member does not have enough points."),
    "reward_not_found": _("No such reward."),
    "reward_unavailable": _("This reward is not offered at this store right now."),
    "idempotency_key_reused": _("This form was already sent. Reload the page and try again."),
    "consent_missing": _("The customer has not given consent for this."),
    "notice_missing": _("The privacy notice is missing in this language. Call head office."),
    "subject_not_found": _("No such member."),
    "scan_not_found": _("No such scan."),
    "scan_expired": _("This scan is no longer waiting for a card. Start a new scan."),
    "eid_card_linked_elsewhere": _(
        "This card belongs to another member: find that member, or link the card from their page."
    ),
    "scan_not_waiting": _("This scan is no longer waiting for a card."),
    "member_reference_invalid": _("This member page is not yours to open. Find the member again."),
    "member_reference_expired": _("This member page has expired. Find the member again."),
    "confirmation_code_invalid": _("This code is not right, or it has expired. Check it."),
    "member_confirmation_required": _("The member must confirm this first."),
    "four_eyes_required": _("Another person must check this request."),
}

# Why a reader could not read the card (EidScan.failure_code), and an expired scan.
SCAN_FAILURES = {
    "card_removed": _("The card was taken out too soon. Ask the customer to leave it in."),
    "reader_unavailable": _("The card reader is not connected. Check its cable."),
    "card_unreadable": _("The card could not be read. Try again, or use the form."),
    "no_card": _("No card was put in the reader in time."),
    "expired": _("The scan waited too long for the card. Start a new scan."),
    "cancelled": _("Scan cancelled. The card will not be read."),
    "card_not_activated": _(
        "This card cannot be read: it was never activated. Use the form, or another card."
    ),
    "eid_name_too_long": _(
        "The name on this card is longer than eID cards allow, so it cannot be used. Use the form."
    ),
    "eid_card_linked_elsewhere": _(
        "This card belongs to another member: find that member, or link the card from their page."
    ),
    "eid_guardian_consent_needed": _(
        "This is a child's card. Ask the parent or guardian for their consent, tick "
        "“A parent or guardian consents” and scan again."
    ),
    "forbidden_personal_field": _(
        "The reader sent data it must never send; nothing was kept. Ask your manager to "
        "update the reader program, and use the form meanwhile."
    ),
    "invalid_input": _(
        "The reader sent a result the server cannot accept; nothing was kept. Scan again, "
        "or use the form."
    ),
    "consent_missing": _("The consent for this scan is not on record. Start a new scan."),
}

FIELD_MESSAGES = {
    "given_name": _("Type the given name (letters only)."),
    "surname": _("Type the surname (letters only)."),
}


def error_message(error: ApplicationError) -> str:
    """Return what to tell the cashier about this error."""
    return str(MESSAGES.get(error.code, error.message))


def scan_failure_message(code: str) -> str:
    return str(SCAN_FAILURES.get(code or "card_unreadable", SCAN_FAILURES["card_unreadable"]))


def field_errors(error: ApplicationError) -> dict[str, str]:
    """Return per-field messages for the errors the services attach to a field."""
    fields = {"invalid_email": "email", "invalid_phone": "phone", "member_exists": "email"}
    found = {}
    if error.code in fields:
        found[fields[error.code]] = error_message(error)
    for name in error.details:
        if name in FIELD_MESSAGES:
            found[name] = str(FIELD_MESSAGES[name])
    return found
