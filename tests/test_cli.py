"""The CLI as an operator uses it: a real process against a real data dir."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

CONCLAVE = str(Path(sys.executable).with_name("conclave"))


def run(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONCLAVE_DATA_DIR": str(data_dir)}
    env.pop("CONCLAVE_DATABASE_URL", None)
    return subprocess.run([CONCLAVE, *args], env=env, capture_output=True, text=True, timeout=60, check=check)


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_create_organization_and_project(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    org = as_json(run(tmp_path, "admin", "create-organization", "--name", "Acme", "--json"))
    assert set(org) == {"id", "api_key", "secret"}
    project = as_json(
        run(tmp_path, "admin", "create-project", "--organization", org["id"], "--name", "Web", "--json")
    )
    assert set(project) == {"id", "organization_id", "api_key", "secret_key", "app_id"}
    assert project["organization_id"] == org["id"]
    assert re.fullmatch(r"[0-9a-f]{32}", project["app_id"])


def test_import_existing_credentials(tmp_path: Path) -> None:
    org = as_json(
        run(
            tmp_path,
            "admin",
            "create-organization",
            "--name",
            "Old",
            "--api-key",
            "org-key-1",
            "--secret",
            "org-secret-123456",
            "--json",
        )
    )
    assert (org["api_key"], org["secret"]) == ("org-key-1", "org-secret-123456")
    project = as_json(
        run(
            tmp_path,
            "admin",
            "create-project",
            "--organization",
            org["id"],
            "--name",
            "P",
            "--api-key",
            "p-key-1",
            "--secret-key",
            "p-secret-123456",
            "--app-id",
            "abcdefabcdefabcdefabcdefabcdefab",
            "--json",
        )
    )
    assert (project["api_key"], project["secret_key"], project["app_id"]) == (
        "p-key-1",
        "p-secret-123456",
        "abcdefabcdefabcdefabcdefabcdefab",
    )
    again = run(
        tmp_path,
        "admin",
        "create-project",
        "--organization",
        org["id"],
        "--name",
        "Q",
        "--api-key",
        "p-key-1",
        "--json",
        check=False,
    )
    assert again.returncode == 1 and "already in use" in again.stderr


def test_clear_errors(tmp_path: Path) -> None:
    missing = run(tmp_path, "admin", "create-project", "--organization", "nope", "--name", "X", check=False)
    assert missing.returncode == 1 and "not found" in missing.stderr
    bad = run(
        tmp_path,
        "admin",
        "create-project",
        "--organization",
        "nope",
        "--name",
        "X",
        "--app-id",
        "XYZ",
        check=False,
    )
    assert bad.returncode == 1 and "app_id" in bad.stderr
