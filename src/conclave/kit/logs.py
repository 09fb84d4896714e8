"""Logging helpers: keep credentials carried in URLs out of access logs."""

from __future__ import annotations

import logging
import re

# Access tokens (/rtc?token=, /meet/…?token=) and signed-link signatures are credentials.
_SECRET_QUERY = re.compile(r"(?P<name>token|signature|access_token)=[^&\s\"]+")


def redact(text: str) -> str:
    return _SECRET_QUERY.sub(lambda m: f"{m['name']}=[redacted]", text)


class RedactQuerySecrets(logging.Filter):
    """Rewrites uvicorn access-log lines (whose path is in ``record.args``) without the secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True
