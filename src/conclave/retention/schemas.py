"""Request shape of ``DELETE /api/v1/sessions/{session}/resources``."""

from __future__ import annotations

from conclave.kit.schemas import RequestModel


class DeleteResources(RequestModel):
    delete_history: bool = False
