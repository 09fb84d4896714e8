"""Text the database cannot store is refused with a 400, on every backend alike.

Why this exists: PostgreSQL text cannot hold U+0000 (the statement fails, SQLSTATE 22021), while
SQLite stores it silently, and a lone UTF-16 surrogate cannot even be encoded for either driver.
Both surfaced as a 500 on any path, query or body carrying one. So requests are checked where
they enter (the route class, realtime frames), and a database refusal of the same kind that
slips past (a multipart field, say) is translated to the same 400.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy.exc import DBAPIError

from conclave.kit.errors import BadRequest

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A JSON escape that may decode to one of them (a surrogate pair decodes to a valid character).
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_UNSTORABLE_ESCAPE_BYTES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_CHARACTER_NOT_IN_REPERTOIRE = "22021"


def unstorable_text() -> BadRequest:
    return BadRequest(
        "text may not contain NUL characters (U+0000) or unpaired surrogates", code="invalid_characters"
    )


def has_unstorable(value: Any) -> bool:
    """Whether a string, or any string in a decoded JSON value (keys included), holds one."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(has_unstorable(key) or has_unstorable(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(has_unstorable(item) for item in value)
    return False


def json_has_unstorable(raw: bytes | str) -> bool:
    """Whether a JSON document's strings hold one. Only a document with a suspicious escape is
    decoded, to tell ``\\u0000`` from an escaped backslash followed by ``u0000``."""
    escape = _UNSTORABLE_ESCAPE_BYTES if isinstance(raw, bytes) else _UNSTORABLE_ESCAPE
    if escape.search(raw) is None:  # type: ignore[arg-type]
        return False
    try:
        return has_unstorable(json.loads(raw))
    except ValueError:
        return False  # not JSON: the parser that follows refuses it in its own words


def refused_text(exc: BaseException) -> BadRequest | None:
    """The 400 for a failure caused by the input's characters, else None."""
    if isinstance(exc, UnicodeEncodeError) and "surrogate" in str(exc):
        return unstorable_text()
    if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == _CHARACTER_NOT_IN_REPERTOIRE:
        return unstorable_text()
    return None
