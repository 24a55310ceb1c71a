"""Typed errors of the reader agent, each with a stable code the server and tests rely on.

Messages never carry personal data: they say what went wrong, never what the card holds.
"""

from __future__ import annotations


class ReaderAgentError(Exception):
    """Base of every error the agent expects and handles."""

    code = "agent_error"
    default_message = "the reader agent failed"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class CardReadError(ReaderAgentError):
    """A card could not be read; the code goes to the server's failure endpoint."""

    code = "card_unreadable"


class NoCard(CardReadError):
    code = "no_card"
    default_message = "no card was presented in time"


class CardRemoved(CardReadError):
    code = "card_removed"
    default_message = "the card was removed before it was read"


class ReaderUnavailable(CardReadError):
    code = "reader_unavailable"
    default_message = "the card reader is not available"


class CardUnreadable(CardReadError):
    code = "card_unreadable"
    default_message = "the card could not be read"


class MalformedIdentityFile(CardUnreadable):
    """The identity file's TLV structure or contents are not what an eID holds."""

    default_message = "the card's identity file is malformed"


class CardNotActivated(CardUnreadable):
    """The card answers 6D 00: it was never activated (some cards issued abroad). No retry."""

    code = "card_not_activated"
    default_message = "this card was never activated and cannot be read"


class NameTooLong(CardUnreadable):
    """A name is longer than the card format allows; the server would refuse it too."""

    code = "eid_name_too_long"
    default_message = "a name on the card is longer than the card format allows"


class ScanWithdrawn(ReaderAgentError):
    """The scan was cancelled, expired or refused before the card was read: read nothing."""

    code = "scan_withdrawn"
    default_message = "the scan no longer stands; the card is not read"

    def __init__(self, reason: str | None = None) -> None:
        super().__init__()
        self.reason = reason or "withdrawn"


class ServerError(ReaderAgentError):
    code = "server_error"
    default_message = "the server refused the request"

    def __init__(
        self, message: str | None = None, *, status: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        if code:
            self.code = code


class ServerUnavailable(ServerError):
    """The server could not be reached or answered 5xx; worth retrying."""

    code = "server_unavailable"
    default_message = "the server is unreachable"


class ServerBusy(ReaderAgentError):
    """The server holds all the waits it serves at once: ask again after `retry_after` s."""

    code = "server_busy"
    default_message = "the server asked the reader to wait before asking again"

    def __init__(self, retry_after: float) -> None:
        super().__init__()
        self.retry_after = retry_after


class DeviceTokenRefused(ServerError):
    """The server answered 401: the token is wrong or the device was revoked."""

    code = "device_token_refused"
    default_message = "device token refused"


class ConfigurationError(ReaderAgentError):
    code = "configuration_error"
    default_message = "the agent is not configured correctly"
