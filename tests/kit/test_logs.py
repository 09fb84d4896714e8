"""Credentials in URLs never reach the access log."""

from __future__ import annotations

import logging

from conclave.kit.logs import RedactQuerySecrets, redact


def test_redact_query_secrets() -> None:
    line = redact('GET /rtc?token=eyJhbGciOi.abc.def&room=x HTTP/1.1 "/dl?expires=1&signature=abcd"')
    assert "eyJ" not in line and "abcd" not in line
    assert "token=[redacted]&room=x" in line and "signature=[redacted]" in line


def test_filter_rewrites_uvicorn_access_records() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/meet/room?token=secret.jwt.value", "1.1", 200),
        None,
    )
    assert RedactQuerySecrets().filter(record)
    assert "secret" not in record.getMessage()
