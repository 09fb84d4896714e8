"""Every table, imported in one place so Alembic and the app see the whole schema."""

from conclave.access.models import IssuedToken, Role
from conclave.chat.models import ChatMessage
from conclave.events.models import RoomEvent
from conclave.kit.db import Base
from conclave.kit.jobs import Job
from conclave.rooms.models import Room, RoomTag
from conclave.scenes.models import Scene
from conclave.sessions.models import Participant, Session
from conclave.tenancy.models import Credential, Organization, Project, ProjectDailyUsage
from conclave.webhooks.models import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Base",
    "ChatMessage",
    "Credential",
    "IssuedToken",
    "Job",
    "Organization",
    "Participant",
    "Project",
    "ProjectDailyUsage",
    "Role",
    "Room",
    "RoomEvent",
    "RoomTag",
    "Scene",
    "Session",
    "WebhookDelivery",
    "WebhookEndpoint",
]
