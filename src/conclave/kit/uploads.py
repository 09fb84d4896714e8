"""CSV/TXT imports (polls, quizzes): one reader, so limits and line numbers are the same everywhere."""

from __future__ import annotations

import csv
import io

from conclave.kit.errors import ValidationFailed

MAX_IMPORT_BYTES = 2 * 1024 * 1024
IMPORT_TYPES = frozenset({"text/csv", "text/plain", "application/csv", "application/vnd.ms-excel"})


def read_upload(data: bytes, filename: str | None, content_type: str | None) -> list[tuple[int, list[str]]]:
    """A CSV/TXT upload (≤ 2 MB, UTF-8) as (line number, cells); limits checked before parsing."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed("the file is larger than 2 MB", code="file_too_large")
    name = (filename or "").lower()
    kind = (content_type or "").split(";")[0].strip().lower()
    if not (name.endswith((".csv", ".txt")) or kind in IMPORT_TYPES):
        raise ValidationFailed("upload a CSV or TXT file", code="unsupported_file_type")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("the file is not UTF-8 text", code="invalid_encoding") from None
    try:
        reader = csv.reader(io.StringIO(text))
        # line_num after a row is the line it ended on; a row starts where the previous one ended.
        rows, start = [], 1
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
        return rows
    except csv.Error as exc:
        raise ValidationFailed(f"the file is not valid CSV: {exc}", code="invalid_csv") from None
