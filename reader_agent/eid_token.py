"""Derive the eID token: HMAC-SHA256 of the card number under a key kept with the agent."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from reader_agent.errors import ConfigurationError

KEY_BYTES = 32


class EidTokeniser:
    """Turn a card number into a stable token that cannot be reversed without the key.

    Every counter PC of a chain needs the same key, or a card gets a different token in
    each store.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_BYTES:
            raise ConfigurationError(f"the eID token key must be at least {KEY_BYTES} bytes")
        self._key = key

    @classmethod
    def from_key_file(cls, path: str | Path) -> EidTokeniser:
        """Load a key file written by `generate_key_file` (hex text)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="ascii").strip()
            key = bytes.fromhex(text)
        except FileNotFoundError:
            raise ConfigurationError(
                "the eID token key file does not exist; create it with --generate-key"
            ) from None
        except (OSError, ValueError, UnicodeDecodeError):
            raise ConfigurationError("the eID token key file is unreadable or not hex") from None
        return cls(key)

    def token_for(self, card_number: str) -> str:
        """Return the 64-hex-character token for this card number."""
        return hmac.new(self._key, card_number.encode("ascii"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "EidTokeniser(<key hidden>)"


def key_file_is_private(path: str | Path) -> bool:
    """Return True when neither group nor others may read the key file."""
    return not Path(path).stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)


def generate_key_file(path: str | Path) -> Path:
    """Write a new random key to path (mode 0600); refuse to overwrite an existing one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Overwriting would orphan every member linked with the old key.
        raise ConfigurationError("the key file already exists; not overwriting it") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    return path
