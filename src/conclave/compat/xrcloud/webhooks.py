"""XRCLOUD's ``room-join`` webhook body, derived from participant events.

Registered as the ``xrcloud`` payload format of Conclave's webhook outbox, so deliveries to an
XRCLOUD project's ``webhookUrl`` are durable, ordered per room and retried like any other.
"""

from __future__ import annotations

from typing import Any

from conclave.compat.xrcloud.schemas import reticulum_id
from conclave.kit.events import DomainEvent
from conclave.kit.time import utcnow
from conclave.tenancy.models import Project

ACTIONS = {"participant.joined": "enter", "participant.left": "exit"}


def _js_time(event: DomainEvent) -> str:
    moment = event.occurred_at or utcnow()
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def room_join_payload(event: DomainEvent, project: Project) -> dict[str, Any] | None:
    """The reference's example body; other events are not sent to an XRCLOUD webhookUrl."""
    action = ACTIONS.get(event.type)
    if action is None:
        return None
    data = event.data
    external_id = data.get("external_id")
    return {
        "code": "room-join",
        "resourceId": event.room_id,
        "sessionId": event.session_id,
        "reticulumId": reticulum_id(project.id, external_id) if external_id else data.get("participant_id"),
        "logTime": _js_time(event),
        "action": action,
        "ip": data.get("ip"),
        "userAgent": data.get("user_agent"),
        "device": data.get("device"),
    }
