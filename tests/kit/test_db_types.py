"""``UTCDateTime`` stores on SQLite exactly the text SQLAlchemy's own SQLite DATETIME would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from conclave.kit.db import UTCDateTime

VALUES = [
    datetime(2026, 12, 7, 22, 15, 58, 296802, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds: still written out
    datetime(999, 1, 1, tzinfo=UTC),  # a year of three digits: zero-padded
    datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),  # converted to UTC
]


def test_sqlite_text_is_sqlalchemys() -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().bind_processor(dialect)
    theirs = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and theirs is not None
    for value in VALUES:
        assert ours(value) == theirs(value.astimezone(UTC))
    assert ours(None) is None
    assert ours(VALUES[3]) == "2026-07-01 04:59:59.999999"


def test_naive_datetimes_are_still_refused() -> None:
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        process = UTCDateTime().bind_processor(dialect)
        assert process is not None
        with pytest.raises(ValueError, match="naive"):
            process(datetime(2026, 1, 1))
