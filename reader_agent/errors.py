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


class DeviceTokenRefused(ServerError):
    """The server answered 401: the token is wrong or the device was revoked."""

    code = "device_token_refused"
    default_message = "device token refused"


class ConfigurationError(ReaderAgentError):
    code = "configuration_error"
    default_message = "the agent is not configured correctly"
