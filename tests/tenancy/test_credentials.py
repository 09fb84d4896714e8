"""Authentication, credential rotation and revocation, project status."""

from __future__ import annotations

import base64

import httpx

from tests.factories import create_org, create_project


async def test_project_auth_bearer_and_basic(client: httpx.AsyncClient) -> None:
    project = await create_project(client)
    assert (await client.get("/api/v1/rooms", headers=project.headers)).status_code == 200
    assert (await client.get("/api/v1/rooms", headers=project.basic_headers)).status_code == 200
    by_key = base64.b64encode(f"{project.api_key}:{project.secret_key}".encode()).decode()
    assert (
        await client.get("/api/v1/rooms", headers={"Authorization": f"Basic {by_key}"})
    ).status_code == 200

    other = await create_project(client)
    mixed = base64.b64encode(f"{other.id}:{project.secret_key}".encode()).decode()
    bad_headers = [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Token abc"},
        {"Authorization": "Basic !!!"},
        {"Authorization": f"Basic {mixed}"},
        {"Authorization": "Bearer"},
    ]
    for headers in bad_headers:
        response = await client.get("/api/v1/rooms", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["message"]


async def test_org_credentials_do_not_open_project_api_and_vice_versa(client: httpx.AsyncClient) -> None:
    org = await create_org(client)
    project = await create_project(client, org)
    assert (await client.get("/api/v1/rooms", headers=org.headers)).status_code == 401
    assert (await client.get("/api/v1/projects", headers=project.headers)).status_code == 401
    assert (await client.get("/api/v1/admin/organizations", headers=org.headers)).status_code == 401


async def test_rotation_with_grace_then_revocation(client: httpx.AsyncClient) -> None:
    org = await create_org(client)
    project = await create_project(client, org)
    base = f"/api/v1/projects/{project.id}/credentials"
    response = await client.post(
        f"{base}/{project.api_key}/rotate", json={"grace_seconds": 3600}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    new = response.json()
    new_headers = {"Authorization": f"Bearer {new['secret']}"}
    assert (await client.get("/api/v1/rooms", headers=project.headers)).status_code == 200  # grace period
    assert (await client.get("/api/v1/rooms", headers=new_headers)).status_code == 200
    page = (await client.get(base, headers=org.headers)).json()
    listing = {c["key_id"]: c["status"] for c in page["data"]}
    assert listing == {project.api_key: "expiring", new["key_id"]: "active"}

    assert (await client.post(f"{base}/{project.api_key}/revoke", headers=org.headers)).status_code == 200
    assert (await client.get("/api/v1/rooms", headers=project.headers)).status_code == 401
    assert (await client.get("/api/v1/rooms", headers=new_headers)).status_code == 200

    response = await client.post(f"{base}/{new['key_id']}/rotate", headers=org.headers)  # immediate
    newest_key = response.json()["key_id"]
    newest = {"Authorization": f"Bearer {response.json()['secret']}"}
    assert (await client.get("/api/v1/rooms", headers=new_headers)).status_code == 401
    assert (await client.get("/api/v1/rooms", headers=newest)).status_code == 200
    response = await client.post(f"{base}/{project.api_key}/rotate", headers=org.headers)
    assert response.status_code == 409

    extra = (await client.post(base, headers=org.headers)).json()
    assert (
        await client.get("/api/v1/rooms", headers={"Authorization": f"Bearer {extra['secret']}"})
    ).status_code == 200
    stranger = await create_org(client)
    assert (
        await client.post(f"{base}/{extra['key_id']}/revoke", headers=stranger.headers)
    ).status_code == 404

    # Every rotation leaves its revoked credential listed, so the list pages like every other.
    keys = [project.api_key, new["key_id"], newest_key, extra["key_id"]]
    page = (await client.get(base, params={"order": "asc"}, headers=org.headers)).json()
    assert page["total_count"] == 4 and [c["key_id"] for c in page["data"]] == keys
    first = (await client.get(base, params={"order": "asc", "limit": 2}, headers=org.headers)).json()
    assert [c["key_id"] for c in first["data"]] == keys[:2]
    rest = await client.get(base, params={"order": "asc", "after": keys[1]}, headers=org.headers)
    assert [c["key_id"] for c in rest.json()["data"]] == [newest_key, extra["key_id"]]
    newest_first = (await client.get(base, params={"offset": 1, "limit": 1}, headers=org.headers)).json()
    assert [c["key_id"] for c in newest_first["data"]] == [newest_key]
    unknown = await client.get(base, params={"after": "no-such-key"}, headers=org.headers)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "credential_not_found"
    foreign = await client.get(base, params={"after": stranger.api_key}, headers=org.headers)
    assert foreign.status_code == 404


async def test_organization_credentials_rotate(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    org = await create_org(client)
    base = f"/api/v1/admin/organizations/{org.id}/credentials"
    response = await client.post(f"{base}/{org.api_key}/rotate", headers=admin_headers)
    assert response.status_code == 200
    assert (await client.get("/api/v1/projects", headers=org.headers)).status_code == 401
    fresh = {"Authorization": f"Bearer {response.json()['secret']}"}
    assert (await client.get("/api/v1/projects", headers=fresh)).status_code == 200
    page = (await client.get(base, params={"order": "asc"}, headers=admin_headers)).json()
    assert page["total_count"] == 2
    assert [(c["key_id"], c["status"]) for c in page["data"]] == [
        (org.api_key, "revoked"),
        (response.json()["key_id"], "active"),
    ]


async def test_imported_keys_work_unchanged(client: httpx.AsyncClient) -> None:
    org = await create_org(client, api_key="legacy-org-key", secret="legacy-org-secret-123")
    assert org.api_key == "legacy-org-key" and org.secret == "legacy-org-secret-123"
    project = await create_project(
        client,
        org,
        api_key="legacy-project-key",
        secret_key="legacy-project-secret-1",
        app_id="0123456789abcdef0123456789abcdef",
    )
    assert (project.api_key, project.secret_key, project.app_id) == (
        "legacy-project-key",
        "legacy-project-secret-1",
        "0123456789abcdef0123456789abcdef",
    )
    assert (await client.get("/api/v1/rooms", headers=project.headers)).status_code == 200
    response = await client.post(
        "/api/v1/projects",
        json={"name": "again", "app_id": "0123456789abcdef0123456789abcdef"},
        headers=org.headers,
    )
    assert response.status_code == 409
    response = await client.post(
        "/api/v1/projects", json={"name": "again2", "api_key": "legacy-project-key"}, headers=org.headers
    )
    assert response.status_code == 409
    response = await client.post(
        "/api/v1/projects", json={"name": "bad", "app_id": "XYZ"}, headers=org.headers
    )
    assert response.status_code == 422


async def test_inactive_and_suspended_projects_are_refused(client: httpx.AsyncClient) -> None:
    org = await create_org(client)
    project = await create_project(client, org)
    for status in ("inactive", "suspended"):
        response = await client.put(
            f"/api/v1/projects/{project.id}/status", json={"status": status}, headers=org.headers
        )
        assert response.status_code == 200 and response.json()["status"] == status
        response = await client.get("/api/v1/rooms", headers=project.headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "project_inactive"
    response = await client.put(
        f"/api/v1/projects/{project.id}/status", json={"status": "ive"}, headers=org.headers
    )
    assert response.status_code == 422
    await client.put(f"/api/v1/projects/{project.id}/status", json={"status": "active"}, headers=org.headers)
    assert (await client.get("/api/v1/rooms", headers=project.headers)).status_code == 200


async def test_secrets_are_encrypted_at_rest(client: httpx.AsyncClient, app: object) -> None:
    from sqlalchemy import text

    project = await create_project(client)
    engine = app.state.engine  # type: ignore[attr-defined]
    async with engine.connect() as connection:
        rows = (
            await connection.execute(text("SELECT secret_encrypted, secret_digest FROM credentials"))
        ).all()
    stored = " ".join(f"{a} {b}" for a, b in rows)
    assert project.secret_key not in stored
