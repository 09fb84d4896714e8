"""Fixtures: a fresh organization and project per test, with Qriib clients signing as each."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.compat.qriib.helpers import QriibClient
from tests.factories import Org, ProjectKeys, create_org, create_project


@dataclass(frozen=True)
class Tenant:
    org: Org
    project: ProjectKeys
    as_org: QriibClient
    as_project: QriibClient


@pytest.fixture
async def tenant(client: httpx.AsyncClient) -> Tenant:
    org = await create_org(client)
    project = await create_project(client, org)
    return Tenant(
        org=org,
        project=project,
        as_org=QriibClient(client, org.api_key, org.secret),
        as_project=QriibClient(client, project.api_key, project.secret_key),
    )
