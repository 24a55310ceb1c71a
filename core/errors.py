"""One error hierarchy with stable codes.

The domain raises these; the API's exception handler turns them into
`{"code": ..., "message": ..., "details": ...}` with the status named here. The reader agent
and the portal rely on the codes, so a code never changes meaning once shipped. Messages and
details never carry personal data.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "application_error"
    status = 400
    message = _("The request could not be carried out.")

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        # Messages are lazy: each answer speaks the language of the request that reads it.
        self.message = message or self.message
        self.details = details or {}
        super().__init__(self.message)


class InvalidInput(ApplicationError):
    code = "invalid_input"
    message = _("Some fields are missing or invalid.")


class ValueOutOfRange(InvalidInput):
    code = "value_out_of_range"
    message = _("A value is too large or otherwise out of range for what it goes into.")


class NotFound(ApplicationError):
    code = "not_found"
    status = 404
    message = _("Not found.")


class Forbidden(ApplicationError):
    code = "forbidden"
    status = 403
    message = _("You may not do this.")


class Conflict(ApplicationError):
    code = "conflict"
    status = 409
    message = _("The request conflicts with the current state.")


# Stores and staff
class StoreForbidden(Forbidden):
    code = "store_forbidden"
    message = _("You do not work for this store.")


class StoreNotFound(NotFound):
    code = "store_not_found"
    message = _("No such store.")


class StoreInactive(ApplicationError):
    code = "store_inactive"
    status = 409
    message = _("This store is closed for loyalty operations.")


# Staff API tokens (stores.authentication): 401, log in again. An unknown, revoked or malformed
# token, or one of a deactivated account, answers DRF's code as it always did.
class TokenRefused(ApplicationError):
    code = "authentication_failed"
    status = 401
    message = _("Invalid token.")


class TokenExpired(TokenRefused):
    code = "token_expired"
    message = _("This token has expired; log in again.")


# Members
class MemberNotFound(NotFound):
    code = "member_not_found"
    message = _("No such member.")


class MemberReferenceInvalid(ApplicationError):
    # 404: the path (or `link_member`) names no member this caller may reach here; a 400 would
    # say the request was malformed, which a well-formed reference of another counter is not.
    code = "member_reference_invalid"
    status = 404
    message = _("This member reference is not valid here: look the member up again.")


class MemberReferenceExpired(ApplicationError):
    code = "member_reference_expired"
    status = 400
    message = _("This member reference has expired: look the member up again.")


class ConfirmationRequired(Conflict):
    code = "member_confirmation_required"
    message = _("The member must confirm this request first.")


class FourEyesRequired(Forbidden):
    code = "four_eyes_required"
    message = _("Another person than the one who opened this request must verify it.")


class ConfirmationCodeInvalid(ApplicationError):
    code = "confirmation_code_invalid"
    status = 400
    message = _("This confirmation code is not valid: it may be wrong, used or expired.")


class MemberExists(Conflict):
    code = "member_exists"
    message = _("A member with this e-mail address or phone number already exists.")


class MemberInactive(Conflict):
    code = "member_inactive"
    message = _("This membership is not active.")


class InvalidMemberNumber(InvalidInput):
    code = "invalid_member_number"
    message = _("This is not a valid member number (check digit mismatch).")


class InvalidEmail(InvalidInput):
    code = "invalid_email"
    message = _("This is not a valid e-mail address.")


class InvalidPhone(InvalidInput):
    code = "invalid_phone"
    message = _("This is not a valid phone number.")


# Points
class InvalidAmount(InvalidInput):
    code = "invalid_amount"
    message = _("The purchase amount must be a positive number of euros.")


class AmountNotPlain(InvalidAmount):
    code = "amount_not_plain"
    message = _(
        "Type the amount as digits with a decimal point or comma only, e.g. 12.34 or 12,34."
    )


class InvalidPoints(InvalidInput):
    code = "invalid_points"
    message = _("The number of points must be a positive whole number.")


class PointsOutOfRange(InvalidInput):
    code = "points_out_of_range"
    message = _("This purchase would earn more points than one ledger entry may hold.")


class BalanceOutOfRange(Conflict):
    code = "balance_out_of_range"
    message = _("This would take the member's balance past the largest number it can hold.")


class InsufficientPoints(Conflict):
    code = "insufficient_points"
    message = _("The member does not have enough points.")


class RewardNotFound(NotFound):
    code = "reward_not_found"
    message = _("No such reward.")


class RewardUnavailable(Conflict):
    code = "reward_unavailable"
    message = _("This reward is not offered at this store right now.")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = _("This Idempotency-Key was already used for a different request.")


class EntryNotReversible(Conflict):
    code = "entry_not_reversible"
    message = _("This ledger entry cannot be reversed.")


class CouponNotFound(NotFound):
    code = "coupon_not_found"
    message = _("No coupon has this code.")


class CouponUnavailable(Conflict):
    code = "coupon_unavailable"
    message = _("This coupon was already redeemed, has expired, or belongs to another member.")


class SaleNotFound(NotFound):
    code = "sale_not_found"
    message = _("No earn for this member has this sale reference at this store.")


class ReturnTooLarge(Conflict):
    code = "return_too_large"
    message = _("The amount returned is more than what is left of the sale.")


# Privacy: consent, notices, erasure and access tickets
class ConsentMissing(Forbidden):
    code = "consent_missing"
    message = _("The customer has not given consent for this purpose.")


class PurposeInvalid(InvalidInput):
    code = "purpose_invalid"
    message = _("This is not a processing purpose the platform knows.")


class ChannelInvalid(InvalidInput):
    code = "channel_invalid"
    message = _("This is not a consent channel the platform knows.")


class NoticeMissing(Conflict):
    code = "notice_missing"
    message = _("No privacy notice is published for this purpose and language.")


class NoticeImmutable(Conflict):
    code = "notice_immutable"
    message = _("A published privacy notice cannot be changed; publish a new version.")


class SubjectNotFound(NotFound):
    code = "subject_not_found"
    message = _("No data subject with this key.")


class TicketTransitionInvalid(Conflict):
    code = "ticket_transition_invalid"
    message = _("The ticket cannot move to this state from its current one.")


class TicketExtensionInvalid(Conflict):
    code = "ticket_extension_invalid"
    message = _("The deadline can only be extended once, by at most two months, before it passes.")


class LinkInvalid(ApplicationError):
    code = "link_invalid"
    status = 400
    message = _("This link is not valid: it may have expired or been used already.")


class RequestTooLarge(ApplicationError):
    code = "request_too_large"
    status = 413
    message = _("The request body is too large.")


class ServiceUnavailable(ApplicationError):
    code = "service_unavailable"
    status = 503
    message = _("A service this needs is not answering; please try again shortly.")


class RateLimited(ApplicationError):
    code = "rate_limited"
    status = 429
    message = _("Too many requests; please try again later.")


# Reader devices and eID scans
class DeviceUnknown(ApplicationError):
    code = "device_unknown"
    status = 401
    message = _("This reader device is not registered.")


class DeviceRevoked(ApplicationError):
    code = "device_revoked"
    status = 401
    message = _("This reader device has been revoked.")


class ForbiddenPersonalField(ApplicationError):
    code = "forbidden_personal_field"
    status = 400
    message = _("The scan result holds data the loyalty purpose may not receive; nothing was kept.")


class ScanNotFound(NotFound):
    code = "scan_not_found"
    message = _("No such scan.")


class ScanExpired(Conflict):
    code = "scan_expired"
    message = _("This scan is no longer waiting for a card; arm a new one.")


class EidCardLinkedElsewhere(Conflict):
    code = "eid_card_linked_elsewhere"
    message = _("This eID card is already linked to another member.")


class EidNameTooLong(InvalidInput):
    code = "eid_name_too_long"
    message = _(
        "A name is longer than the eID card format allows (surname 110 bytes, given names 95)."
    )


class ScanCancelled(Conflict):
    code = "scan_cancelled"
    message = _("This scan was cancelled at the counter; the card is not read.")


class ScanAlreadyRead(Conflict):
    code = "scan_already_read"
    message = _("This scan has had its one read; arm a new one for another read.")


class ScanNotWaiting(Conflict):
    code = "scan_not_waiting"
    message = _("This scan is no longer waiting for a card and cannot be cancelled.")


class GuardianConsentNeeded(Conflict):
    code = "eid_guardian_consent_needed"
    message = _("This is a child's card: a parent or guardian must give the consent.")
