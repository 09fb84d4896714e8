"""Pure validation of node settings and room id derivation (no Janus needed)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from conclave.media.janus.adapter import room_id_for
from conclave.media.janus.config import JanusNodeSettings


def test_settings_validation() -> None:
    with pytest.raises(ValidationError):
        JanusNodeSettings(ws_url="http://127.0.0.1:8188")
    with pytest.raises(ValidationError):
        JanusNodeSettings(ws_url="ws://127.0.0.1:8188", admin_url="ws://127.0.0.1:7188")
    first = JanusNodeSettings(ws_url="ws://127.0.0.1:8188").room_secret_key.get_secret_value()
    second = JanusNodeSettings(ws_url="ws://127.0.0.1:8188").room_secret_key.get_secret_value()
    assert first != second


def test_room_ids_are_stable_and_json_safe() -> None:
    assert room_id_for("tenant-a/standup") == room_id_for("tenant-a/standup")
    assert room_id_for("tenant-a/standup") != room_id_for("tenant-b/standup")
    assert all(0 < room_id_for(f"room-{i}") < 2**53 for i in range(1000))
