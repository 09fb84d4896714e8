"""Statistics from real rows: rooms, sessions, participants (peak concurrency) and recordings."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from conclave.kit.time import utcnow
from tests.content import join
from tests.factories import create_project, create_room


async def test_statistics_from_real_sessions(client: httpx.AsyncClient, app: FastAPI) -> None:
    project = await create_project(client)
    h = project.headers
    today = utcnow().date()
    quiet = await create_room(client, project)
    busy = await create_room(client, project)
    ann = await join(app, project, busy["id"], name="Ann", external_id="ann")
    await join(app, project, busy["id"], name="Ann again", external_id="ann")  # a second device
    await join(app, project, busy["id"], name="Bob")
    span = f"from={today.isoformat()}&to={today.isoformat()}"

    rooms = (await client.get(f"/api/v1/statistics/rooms?{span}", headers=h)).json()
    assert (rooms["total_rooms"], rooms["rooms_created"], rooms["active_rooms"], rooms["live_rooms"]) == (
        2,
        2,
        1,
        1,
    )
    assert rooms["per_day"] == [
        {"date": today.isoformat(), "rooms_created": 2, "active_rooms": 1, "sessions": 1}
    ]

    sessions = (await client.get(f"/api/v1/statistics/sessions?{span}", headers=h)).json()
    assert (sessions["total_sessions"], sessions["live_sessions"], sessions["peak_participants"]) == (1, 1, 3)
    assert sessions["per_day"][0]["sessions"] == 1 and sessions["total_minutes"] >= 0

    people = (await client.get(f"/api/v1/statistics/participants?{span}", headers=h)).json()
    assert (people["total_participants"], people["unique_participants"], people["peak_concurrent"]) == (
        3,
        2,
        3,
    )
    assert people["per_day"][0]["participants"] == 3 and people["per_day"][0]["peak_concurrent"] == 3

    recordings = (await client.get(f"/api/v1/statistics/recordings?{span}", headers=h)).json()
    assert recordings["total_recordings"] == 0 and recordings["per_day"][0]["bytes"] == 0

    # A range before anything happened is empty; the default range is the last 30 days.
    earlier = today - timedelta(days=10)
    before = (await client.get(f"/api/v1/statistics/rooms?from={earlier}&to={earlier}", headers=h)).json()
    assert (before["rooms_created"], before["total_rooms"]) == (0, 0)
    default = (await client.get("/api/v1/statistics/participants", headers=h)).json()
    assert default["total_participants"] == 3 and len(default["per_day"]) in (30, 31)
    assert quiet["id"]

    other = await create_project(client)
    assert (await client.get(f"/api/v1/statistics/sessions?{span}", headers=other.headers)).json()[
        "total_sessions"
    ] == 0
    for bad in (
        f"from={today}&to={earlier}",
        f"from={today - timedelta(days=400)}&to={today}",
        "from=yesterday",
    ):
        response = await client.get(f"/api/v1/statistics/sessions?{bad}", headers=h)
        assert response.status_code == 422, bad
    time_span = await client.get(
        f"/api/v1/statistics/sessions?from={today}T00:00:00Z&to={today + timedelta(days=1)}T00:00:00Z",
        headers=h,
    )
    assert time_span.json()["total_sessions"] == 1
    assert (await client.get("/api/v1/statistics/sessions")).status_code == 401
    # After the end, times come from the stored rows: the session still counts, none is live.
    assert (await client.post(f"/api/v1/sessions/{ann.session_id}/end", headers=h)).status_code == 200
    ended = (await client.get(f"/api/v1/statistics/sessions?{span}", headers=h)).json()
    assert (ended["total_sessions"], ended["live_sessions"]) == (1, 0)
