"""Create Project's ``multipart/form-data`` body, parsed with the standard library, with size caps.

Conclave does not depend on python-multipart; the ``email`` package parses MIME multipart bodies
byte-exactly, and the body is read as a stream so an oversized upload is cut off early.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl

from fastapi import Request

from conclave.compat.xrcloud.errors import PayloadTooLarge, UnsupportedMediaType
from conclave.kit.errors import BadRequest

MAX_BODY_BYTES = 3 * 1024 * 1024


@dataclass
class Upload:
    filename: str
    content: bytes


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)


async def _read(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the request body may be at most {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the request body may be at most {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request) -> Form:
    """Multipart (files and fields) or urlencoded (fields only); an empty body is an empty form."""
    content_type = request.headers.get("content-type", "")
    body = await _read(request)
    form = Form()
    if not body.strip():
        pass
    elif content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        if not message.is_multipart():
            raise BadRequest("malformed multipart body", code="invalid_form")
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                form.files[name] = Upload(filename=filename, content=content)
            else:
                try:
                    form.fields[name] = content.decode()
                except UnicodeDecodeError:
                    raise BadRequest(f"field {name!r} is not valid UTF-8", code="invalid_form") from None
    elif content_type.startswith("application/x-www-form-urlencoded"):
        try:
            form.fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise BadRequest("the form is not valid UTF-8", code="invalid_form") from None
    else:
        raise UnsupportedMediaType("send the project as multipart/form-data")
    # Echoed in error bodies (XRCLOUD's ErrorResponse.body); files are named, never echoed.
    request.state.xrcloud_form = {**form.fields, **{k: v.filename for k, v in form.files.items()}}
    return form
