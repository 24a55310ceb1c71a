"""Logging filters that keep secrets out of log lines Django writes on its own."""

from __future__ import annotations

import logging
import re

# A confirmation link's path carries its token: Django's request log names the path of every
# 4xx/5xx answer ("Bad Request: /nl/privacy/confirm/<token>/").
_LINK_TOKEN = re.compile(r"(/privacy/confirm/)[^/\s'\"]+")


class RedactLinkTokens(logging.Filter):
    """Replace the token in a logged confirmation-link path with a placeholder."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/privacy/confirm/" in message:
            record.msg = _LINK_TOKEN.sub(r"\1[redacted]", message)
            record.args = ()
        return True
