"""Qriib project routes (organization credentials) answered from Conclave's tenancy."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.compat.qriib.conftest import Tenant
from tests.compat.qriib.helpers import QriibClient
from tests.factories import unique

LOCKS = {
    "lock_microphone": False,
    "lock_webcam": False,
    "lock_screen_sharing": False,
    "lock_whiteboard": False,
    "lock_shared_notepad": False,
    "lock_chat": False,
    "lock_chat_send_message": False,
    "lock_chat_file_share": False,
    "lock_private_chat": False,
}
FEATURES: dict[str, Any] = {
    "General_Room_Settings": {
        "allow_screen_share": True,
        "allow_webcams": False,
        "allowed_number_rooms": 2,
        "allowed_rooms": False,
        "auto_gen_user_id": False,
        "mute_on_start": False,
        "room_duration": 0,
        "waiting_room_features": False,
    },
    "additional_features": {
        "allowed_external_media_player": False,
        "speach_to_text_and_translate_features": {"is_allow": False, "is_allow_translation": False},
    },
    "interactive_tools": {"allow_chat_and_file": {"allow_chat": False, "allow_file_upload": False}},
    "recording_features": {"recording_allow": False},
}
LIMITS = {
    "max_active_rooms": 10,
    "max_daily_rooms": 20,
    "max_participants_per_room": 1000,
    "max_api_calls_per_day": 5000,
    "extra_config": {"custom_feature_1": True},
}


async def _native(client: httpx.AsyncClient, tenant: Tenant, project_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/projects/{project_id}", headers=tenant.org.headers)
    assert response.status_code == 200, response.text
    project: dict[str, Any] = response.json()
    return project


async def test_create_project_with_limits_features_and_locks(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    name = unique("sama_new_tool")
    body = {
        "organization_id": tenant.org.id,
        "project_name": name,
        "default_project": False,
        "limits": LIMITS,
        "webhook_url": "https://example.com/hook",
        "logout_url": "https://example.com/bye",
        "domain": "https://meet.example.com",
        "room_features": FEATURES,
        "default_lock_settings": LOCKS,
        "extra_data": {"team": "blue"},
    }
    response = await tenant.as_org.post("/api/v4/projects/create_project", body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["message"], created["status"]) == ("Project and limits created successfully", "success")
    project = created["project"]
    native = await _native(client, tenant, project["id"])
    assert native["name"] == name and native["is_default"] is False
    assert native["limits"] == {k: v for k, v in LIMITS.items() if k != "extra_config"}
    assert native["features"] == FEATURES and native["lock_settings"] == LOCKS
    assert native["extra_data"] == {
        "team": "blue",
        "qriib": {"limits_extra_config": {"custom_feature_1": True}},
    }

    # The new project's own keys work on the room routes at once.
    as_new = QriibClient(client, project["api_key"], project["secret_key"])
    assert (await as_new.get("/api/v4/rooms/get_active_rooms_info")).status_code == 200

    fetched = await tenant.as_org.get(f"/api/v4/projects/get_project?project_id={project['id']}")
    assert fetched.status_code == 200, fetched.text
    payload = fetched.json()
    assert payload["project"] == payload["message"]  # captured shape and the test script's path
    assert payload["project"]["organization"] == (await _org_name(client, tenant))
    full = payload["message"]["projects"][0]
    assert full["api_key"] == project["api_key"] and full["secret_key"] == project["secret_key"]
    assert full["room_features"] == [FEATURES] and full["default_lock_settings"] == LOCKS
    assert full["limits"] == LIMITS and full["extra_data"] == {"team": "blue"}
    assert (full["webhook_url"], full["logout_url"], full["domain"], full["status"]) == (
        "https://example.com/hook",
        "https://example.com/bye",
        "https://meet.example.com",
        "active",
    )
    assert full["created_date"].endswith(" GMT")

    duplicate = await tenant.as_org.post(
        "/api/v4/projects/create_project", {"organization_id": tenant.org.id, "project_name": name}
    )
    assert (duplicate.status_code, duplicate.json()) == (
        409,
        {"message": "Project with the same name already exists", "status": "error"},
    )


async def _org_name(client: httpx.AsyncClient, tenant: Tenant) -> str:
    response = await client.get(
        f"/api/v1/admin/organizations/{tenant.org.id}", headers={"Authorization": "Bearer test-admin-token"}
    )
    name: str = response.json()["name"]
    return name


async def test_create_project_validation_creates_nothing(client: httpx.AsyncClient, tenant: Tenant) -> None:
    base = {"organization_id": tenant.org.id, "project_name": "try1233"}
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"project_name": None}, {"errors": {"project_name": "Must be a string"}}),
        ({"project_name": 1}, {"errors": {"project_name": "Must be a string"}}),
        ({"default_project": "no"}, {"errors": {"default_project": "Must be a bool"}}),
        (
            {"limits": {**LIMITS, "max_active_rooms": -1}},
            {
                "errors": {"max_active_rooms": "Value cannot be negative"},
                "message": "Project not created: invalid limits",
                "status": "error",
            },
        ),
        (
            {"limits": {"max_daily_rooms": "20"}},
            {
                "errors": {"max_daily_rooms": "Must be an integer"},
                "message": "Project not created: invalid limits",
                "status": "error",
            },
        ),
        (
            {
                "room_features": {"General_Room_Settings": {"allow_screen_share": "w2e23rw"}},
                "default_lock_settings": {**LOCKS, "lock_webcam": 1222},
            },
            {
                "errors": {
                    "lock_webcam": "Must be a bool",
                    "room_features.General_Room_Settings.allow_screen_share": "Must be a bool",
                }
            },
        ),
        ({"webhook_url": "not a url"}, {"errors": {"webhook_url": "Invalid format"}}),
        ({"extra_data": {"qriib": 1}}, {"errors": {"extra_data.qriib": "Reserved key"}}),
        (
            {"room_features": [FEATURES, FEATURES]},
            {"errors": {"room_features": "Must contain at most one object"}},
        ),
    ]
    for overrides, expected in cases:
        response = await tenant.as_org.post("/api/v4/projects/create_project", {**base, **overrides})
        assert (response.status_code, response.json()) == (400, expected), overrides
    missing = await tenant.as_org.post("/api/v4/projects/create_project", {"organization_id": tenant.org.id})
    assert missing.json() == {"errors": {"project_name": "The field 'project_name' is required."}}
    elsewhere = await tenant.as_org.post(
        "/api/v4/projects/create_project", {**base, "organization_id": "00000000-0000-4000-8000-000000000000"}
    )
    assert (elsewhere.status_code, elsewhere.json()) == (404, {"error": "Organization not found"})
    listed = await client.get("/api/v1/projects", headers=tenant.org.headers)
    assert listed.json()["total_count"] == 1  # only the fixture's project


async def test_update_project(client: httpx.AsyncClient, tenant: Tenant) -> None:
    path = f"/api/v4/projects/update_project/{tenant.project.id}"
    body = {
        "default_project": True,
        "webhook_url": "https://www.google.com",
        "logout_url": "https://www.gooogle.com/",
        "room_features": [FEATURES],
        "default_lock_settings": {**LOCKS, "lock_chat": True},
    }
    response = await tenant.as_org.put(path, body)
    assert (response.status_code, response.json()) == (200, {"message": "Project updated successfully"})
    native = await _native(client, tenant, tenant.project.id)
    assert native["is_default"] is True and native["webhook_url"] == "https://www.google.com"
    assert native["features"] == FEATURES and native["lock_settings"]["lock_chat"] is True

    limits = {**body, "limits": {"max_active_rooms": 3, "extra_config": {"x": 1}}, "extra_data": {"a": 1}}
    assert (
        await tenant.as_org.put(f"/api/v3/projects/update_project/{tenant.project.id}", limits)
    ).status_code == 200
    native = await _native(client, tenant, tenant.project.id)
    assert native["limits"]["max_active_rooms"] == 3
    assert native["extra_data"] == {"a": 1, "qriib": {"limits_extra_config": {"x": 1}}}
    # Sending extra_data again keeps the hidden extra_config; limits: null clears both.
    again = {**body, "extra_data": {"b": 2}}
    assert (await tenant.as_org.put(path, again)).status_code == 200
    assert (await _native(client, tenant, tenant.project.id))["extra_data"] == {
        "b": 2,
        "qriib": {"limits_extra_config": {"x": 1}},
    }
    assert (await tenant.as_org.put(path, {**body, "limits": None})).status_code == 200
    cleared = await _native(client, tenant, tenant.project.id)
    assert cleared["limits"]["max_active_rooms"] is None and cleared["extra_data"] == {"b": 2}

    before = await _native(client, tenant, tenant.project.id)
    refusals: list[tuple[dict[str, Any], dict[str, str]]] = [
        (
            {**body, "default_lock_settings": {**LOCKS, "lock_microphone": "no"}},
            {"lock_microphone": "Must be a bool"},
        ),
        (
            {k: v for k, v in body.items() if k != "webhook_url"},
            {"webhook_url": "The field 'webhook_url' is required."},
        ),
        (
            {**body, "default_lock_settings": {"lock_chat": True}},
            {"lock_microphone": "The field 'lock_microphone' is required."},
        ),
        (
            {**body, "limits": {"max_participants_per_room": 0}},
            {"max_participants_per_room": "Value must be at least 1"},
        ),
        ({**body, "default_project": 1}, {"default_project": "Must be a bool"}),
    ]
    for update, errors in refusals:
        response = await tenant.as_org.put(path, update)
        assert (response.status_code, response.json()["errors"]) == (400, errors), update
    # The collection's malformed example (a bare word as a value): 400 here, where Qriib answers 500.
    malformed = copy.deepcopy(body)
    raw = str(malformed).replace("True", "sssfbgd")
    broken = await tenant.as_org.put(path, raw)
    assert broken.status_code == 400
    assert await _native(client, tenant, tenant.project.id) == before

    unknown = await tenant.as_org.put(
        "/api/v4/projects/update_project/00000000-0000-4000-8000-000000000000", body
    )
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Project not found"})


async def test_update_project_status(client: httpx.AsyncClient, tenant: Tenant) -> None:
    path = f"/api/v4/projects/update_project_status?project_id={tenant.project.id}"
    invalid = await tenant.as_org.put(path, {"status": "ive"})
    assert (invalid.status_code, invalid.json()) == (400, {"message": "Invalid status", "status": "error"})
    assert (await tenant.as_org.put(path, {})).json() == {"message": "Invalid status", "status": "error"}
    assert (await _native(client, tenant, tenant.project.id))["status"] == "active"
    done = await tenant.as_org.put(path, {"status": "inactive"})
    assert (done.status_code, done.json()) == (
        200,
        {"message": "project status updated successfully", "status": "success"},
    )
    assert (await _native(client, tenant, tenant.project.id))["status"] == "inactive"
    no_id = await tenant.as_org.put("/api/v4/projects/update_project_status", {"status": "active"})
    assert no_id.json() == {"errors": {"project_id": "The field 'project_id' is required."}}
    unknown = await tenant.as_org.put(
        "/api/v4/projects/update_project_status?project_id=00000000-0000-4000-8000-000000000000",
        {"status": "active"},
    )
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Project not found"})


async def test_get_projects_lists_every_status(client: httpx.AsyncClient, tenant: Tenant) -> None:
    second = await tenant.as_org.post(
        "/api/v4/projects/create_project", {"organization_id": tenant.org.id, "project_name": "second"}
    )
    assert second.status_code == 201
    assert second.json()["message"] == "Project created successfully"
    second_id = second.json()["project"]["id"]
    status = f"/api/v4/projects/update_project_status?project_id={second_id}"
    assert (await tenant.as_org.put(status, {"status": "inactive"})).status_code == 200
    response = await tenant.as_org.get(f"/api/v3/projects/get_projects?organization_id={tenant.org.id}")
    assert response.status_code == 200, response.text
    listed = response.json()
    assert listed["organization"] == await _org_name(client, tenant)
    assert [(p["id"], p["status"]) for p in listed["projects"]] == [
        (tenant.project.id, "active"),
        (second_id, "inactive"),
    ]
    first = listed["projects"][0]
    assert set(first) == {
        "api_key",
        "created_date",
        "default_project",
        "domain",
        "domains_list",
        "id",
        "name",
        "secret_key",
        "status",
    }
    assert (first["api_key"], first["secret_key"]) == (tenant.project.api_key, tenant.project.secret_key)
    fresh = await tenant.as_org.get(f"/api/v4/projects/get_project?project_id={tenant.project.id}")
    full = fresh.json()["project"]["projects"][0]
    # A project that never set a lock has every Qriib lock flag off; no features, no limits.
    assert full["default_lock_settings"] == LOCKS
    assert (full["room_features"], full["limits"], full["extra_data"]) == ([], None, {})
    other = await tenant.as_org.get("/api/v4/projects/get_projects?organization_id=someone-else")
    assert (other.status_code, other.json()) == (404, {"error": "Organization not found"})


async def test_projects_of_other_organizations_are_not_found(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    from tests.factories import create_org

    stranger_org = await create_org(client)
    stranger = QriibClient(client, stranger_org.api_key, stranger_org.secret)
    response = await stranger.get(f"/api/v4/projects/get_project?project_id={tenant.project.id}")
    assert (response.status_code, response.json()) == (404, {"error": "Project not found"})
    status = await stranger.put(
        f"/api/v4/projects/update_project_status?project_id={tenant.project.id}", {"status": "inactive"}
    )
    assert status.status_code == 404
    assert (await _native(client, tenant, tenant.project.id))["status"] == "active"
