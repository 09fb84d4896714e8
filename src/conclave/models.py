"""Every table, imported in one place so Alembic and the app see the whole schema."""

from conclave.access.models import IssuedToken, Role
from conclave.kit.db import Base
from conclave.rooms.models import Room, RoomTag
from conclave.tenancy.models import Credential, Organization, Project, ProjectDailyUsage

__all__ = [
    "Base",
    "Credential",
    "IssuedToken",
    "Organization",
    "Project",
    "ProjectDailyUsage",
    "Role",
    "Room",
    "RoomTag",
]
