"""Logging filters that keep secrets out of log lines Django writes on its own."""

from __future__ import annotations

import logging
import re

# A confirmation link's path carries its token: Django's request log names the path of every
# 4xx/5xx answer ("Bad Request: /nl/privacy/confirm/<token>/"). So do the links of "my
# membership": sign-in, offers confirmed, unsubscribe.
_LINK_TOKEN = re.compile(
    r"(/privacy/confirm/|/membership/link/|/membership/offers/confirm/"
    r"|/membership/offers/unsubscribe/)[^/\s'\"]+"
)


class RedactLinkTokens(logging.Filter):
    """Replace the token in a logged confirmation-link path with a placeholder."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _LINK_TOKEN.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True
