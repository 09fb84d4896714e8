"""Recordings requests without media: empty lists, lookups, credentials and the documented errors.

A recording needs a live session on a media node (``RecordingService.start``), so the requests
that need a real one are in ``test_recordings_media.py``, on a real server with Janus.
"""

from __future__ import annotations

import httpx

from tests.compat.qriib.conftest import Tenant
from tests.compat.qriib.helpers import room_body

UNKNOWN = "367a23af-2091-4833-8318-3c642f14888d"


async def test_lists_are_empty_without_recordings(tenant: Tenant) -> None:
    records = await tenant.as_project.get(f"/api/v4/recordings/get_records?project_id={tenant.project.id}")
    assert (records.status_code, records.json()) == (200, {"count": 0, "items": []})
    created = await tenant.as_project.post(
        "/api/v4/rooms/create_quick_video_room", room_body(tenant.project.id, "unrecorded")
    )
    room_id = created.json()["room_id"]
    record = await tenant.as_project.get(f"/api/v4/recordings/get_record?room_id={room_id}")
    assert (record.status_code, record.json()) == (200, {"count": 0, "items": [], "room_id": room_id})


async def test_documented_errors(client: httpx.AsyncClient, tenant: Tenant) -> None:
    other = "0753e658-2753-4d11-8b0e-399714281749"
    foreign = await tenant.as_project.get(f"/api/v4/recordings/get_records?project_id={other}")
    assert (foreign.status_code, foreign.json()) == (404, {"error": "Project not found"})
    unnamed = await tenant.as_project.get("/api/v4/recordings/get_records")
    assert unnamed.json() == {"errors": {"project_id": "The field 'project_id' is required."}}
    no_room = await tenant.as_project.get(f"/api/v4/recordings/get_record?room_id={UNKNOWN}")
    assert (no_room.status_code, no_room.json()) == (404, {"error": "Room not found"})
    link = await tenant.as_project.get(f"/api/v4/recordings/get_recording_link/{UNKNOWN}?download=true")
    assert (link.status_code, link.json()) == (404, {"error": "Recording not found"})
    download = await tenant.as_project.get(f"/api/v4/recordings/download_recording/{UNKNOWN}")
    assert (download.status_code, download.json()) == (404, {"error": "Recording not found"})

    # Credentials: a project key signs; an organization key, a bad signature or none is a 401.
    as_org = await tenant.as_org.get(f"/api/v4/recordings/get_records?project_id={tenant.project.id}")
    assert (as_org.status_code, as_org.json()) == (401, {"error": "Invalid or missing api_key"})
    path = f"/api/v4/recordings/get_recording_link/{UNKNOWN}"
    forged = await client.get(path, headers={"key": tenant.project.api_key, "hash-signature": "bm9wZQ=="})
    assert (forged.status_code, forged.json()) == (401, {"error": "Invalid signature"})
    bare = await client.get(f"/api/v4/recordings/download_recording/{UNKNOWN}")
    assert (bare.status_code, bare.json()) == (401, {"error": "Invalid or missing api_key"})
    # A download link whose signature does not verify opens nothing.
    tampered = await client.get(
        f"/api/v4/recordings/download_recording/{UNKNOWN}?expires=99999999999&signature=00"
    )
    assert tampered.status_code == 403
    assert tampered.json() == {"error": "the download link's signature is invalid"}
