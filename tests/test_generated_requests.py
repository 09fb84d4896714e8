"""Generated requests against every API surface of a running server: none may answer 5xx.

Why: bad input must get a clear 4xx in its surface's format, never a 500. Hand-written tests cover
the inputs we thought of; Schemathesis derives the rest from the OpenAPI document. Its coverage
phase walks each parameter's boundaries (integers past 64 bits, odd Unicode, bodies that are not
UTF-8 …) and its fuzzing phase adds random ones. Its first runs found ten server errors that the
suite had missed, and runs on PostgreSQL found more (NUL characters, integers past 32 bits). The
CLI runs the phases (its pytest plugin does not run the coverage phase, and its lazy schemas do not
run under pytest 9), with a fixed seed and 20 examples per operation, on both backends.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.realtime.conftest import ADMIN, Server, make_server

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
# The fuzzing phase needs about 20 examples per operation to reach, for instance, the 500 an offset
# past 64 bits used to give (checked by reverting that fix: 5 did not find it, 20 did).
EXAMPLES_PER_OPERATION = 20
RUN_TIMEOUT_S = 300


@dataclass(frozen=True)
class Target:
    server: Server
    project_secret: str
    organization_secret: str
    workdir: Path


@pytest.fixture(scope="module")
def target(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A server on each backend: PostgreSQL refuses inputs that SQLite stores (NUL characters,
    integers past 32 bits), so some 500s only show there."""
    server = make_server(tmp_path_factory.mktemp("generated"), CONCLAVE_DATABASE_URL=database_url)
    server.start()
    try:
        with httpx.Client(base_url=server.base, timeout=15) as http:
            admin = {"Authorization": f"Bearer {ADMIN}"}
            org = http.post("/api/v1/admin/organizations", json={"name": "gen"}, headers=admin).json()
            organization = {"Authorization": f"Bearer {org['secret']}"}
            project = http.post("/api/v1/projects", json={"name": "gen"}, headers=organization).json()
            # Something to find, so that some generated requests get past the 404s.
            room = {"friendly_url": "gen"}
            headers = {"Authorization": f"Bearer {project['secret_key']}"}
            assert http.post("/api/v1/rooms", json=room, headers=headers).status_code == 200
        yield Target(server, project["secret_key"], org["secret"], tmp_path_factory.mktemp("schemathesis"))
    finally:
        server.stop()


def server_errors(target: Target, headers: list[str], include: str, exclude: str | None = None) -> str | None:
    """The Schemathesis report when some generated request got a 5xx, else None."""
    command = [
        SCHEMATHESIS,
        "run",
        f"{target.server.base}/openapi.json",
        "--checks=not_a_server_error",
        "--phases=examples,coverage,fuzzing",
        f"--max-examples={EXAMPLES_PER_OPERATION}",
        "--seed=20261207",
        "--request-timeout=15",
        "--no-color",
        f"--include-path-regex={include}",
        *(["--exclude-path-regex", exclude] if exclude else []),
        *(part for header in headers for part in ("-H", header)),
    ]
    # Its own working directory: Schemathesis keeps a cache there (.schemathesis/).
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False, cwd=target.workdir
    )
    return None if done.returncode == 0 else done.stdout[-6000:] + done.stderr[-2000:]


def test_project_calls_never_get_a_server_error(target: Target) -> None:
    """The native API as a project calls it, and the Videsk surface (project credentials too)."""
    headers = [f"Authorization: Bearer {target.project_secret}"]
    assert server_errors(target, headers, r"^/(api/v1/|vpaas/)", r"^/api/v1/(admin|projects)") is None


def test_organization_calls_never_get_a_server_error(target: Target) -> None:
    """Projects under an organization's credentials, and the XRCLOUD surface."""
    secret = target.organization_secret
    headers = [f"Authorization: Bearer {secret}", f"X-XRCLOUD-API-KEY: {secret}"]
    assert server_errors(target, headers, r"^/api/(v1/projects|projects|scenes|rooms)") is None


def test_administrator_calls_never_get_a_server_error(target: Target) -> None:
    assert server_errors(target, [f"Authorization: Bearer {ADMIN}"], r"^/api/v1/admin") is None
