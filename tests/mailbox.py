"""Read the test outbox (Django's locmem mail backend): the codes and links the product mails."""

from __future__ import annotations

import re
import time

from django.core import mail

CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


def mailed_code(address: str) -> str:
    """Return the six-digit code of the one mail sent to `address` (it holds exactly one)."""
    [message] = [m for m in mail.outbox if m.to == [address]]
    [code] = CODE.findall(message.body)
    return code


def mail_with(text: str, timeout: float = 10.0):
    """Wait for the last mail holding `text`: pages on a live server mail after they answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in mail.outbox if text in m.body]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no mail with {text!r}")
