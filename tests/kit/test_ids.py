"""Ids are UUIDv7: valid UUIDs that sort by creation time, so new rows append to their indexes."""

from __future__ import annotations

import re
import time
import uuid

from conclave.kit.ids import is_uuid, new_friendly_url, new_id


def test_ids_are_version_7_uuids_carrying_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    parsed = uuid.UUID(value)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert is_uuid(value)
    assert before <= parsed.int >> 80 <= after


def test_ids_sort_by_creation_time_and_do_not_repeat() -> None:
    earlier = [new_id() for _ in range(1000)]
    time.sleep(0.002)
    later = new_id()
    assert all(id_ < later for id_ in earlier)
    assert len(set(earlier)) == len(earlier)


def test_friendly_urls_are_three_groups_of_unambiguous_letters_all_used() -> None:
    urls = [new_friendly_url() for _ in range(2000)]
    assert all(re.fullmatch(r"[a-km-z]{3}-[a-km-z]{4}-[a-km-z]{3}", url) for url in urls)
    assert len(set(urls)) == len(urls)
    assert set("".join(urls).replace("-", "")) == set("abcdefghijkmnopqrstuvwxyz")
