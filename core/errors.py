"""One error hierarchy with stable codes.

The domain raises these; the API's exception handler turns them into
`{"code": ..., "message": ..., "details": ...}` with the status named here. The reader agent
and the portal rely on the codes, so a code never changes meaning once shipped. Messages and
details never carry personal data.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "application_error"
    status = 400
    message = "The request could not be carried out."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.message
        self.details = details or {}
        super().__init__(self.message)


class InvalidInput(ApplicationError):
    code = "invalid_input"
    message = "Some fields are missing or invalid."


class NotFound(ApplicationError):
    code = "not_found"
    status = 404
    message = "Not found."


class Forbidden(ApplicationError):
    code = "forbidden"
    status = 403
    message = "You may not do this."


class Conflict(ApplicationError):
    code = "conflict"
    status = 409
    message = "The request conflicts with the current state."


# Stores and staff
class StoreForbidden(Forbidden):
    code = "store_forbidden"
    message = "You do not work for this store."


class StoreNotFound(NotFound):
    code = "store_not_found"
    message = "No such store."


class StoreInactive(ApplicationError):
    code = "store_inactive"
    status = 409
    message = "This store is closed for loyalty operations."


# Members
class MemberNotFound(NotFound):
    code = "member_not_found"
    message = "No such member."


class MemberExists(Conflict):
    code = "member_exists"
    message = "A member with this e-mail address or phone number already exists."


class MemberInactive(Conflict):
    code = "member_inactive"
    message = "This membership is not active."


class InvalidMemberNumber(InvalidInput):
    code = "invalid_member_number"
    message = "This is not a valid member number (check digit mismatch)."


class InvalidEmail(InvalidInput):
    code = "invalid_email"
    message = "This is not a valid e-mail address."


class InvalidPhone(InvalidInput):
    code = "invalid_phone"
    message = "This is not a valid phone number."


# Points
class InvalidAmount(InvalidInput):
    code = "invalid_amount"
    message = "The purchase amount must be a positive number of euros."


class InvalidPoints(InvalidInput):
    code = "invalid_points"
    message = "The number of points must be a positive whole number."


class InsufficientPoints(Conflict):
    code = "insufficient_points"
    message = "The member does not have enough points."


class RewardNotFound(NotFound):
    code = "reward_not_found"
    message = "No such reward."


class RewardUnavailable(Conflict):
    code = "reward_unavailable"
    message = "This reward is not offered at this store right now."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for a different request."


class EntryNotReversible(Conflict):
    code = "entry_not_reversible"
    message = "This ledger entry cannot be reversed."
