"""Settings for one Janus node, validated once so the transport can trust them."""

from __future__ import annotations

import secrets

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["JanusNodeSettings"]


def _new_room_secret_key() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(32))


class JanusNodeSettings(BaseModel):
    """How to reach and drive one Janus node.

    ``room_secret_key`` derives the per-room ``secret`` Conclave sets on every videoroom
    it creates (HMAC of the room key), so destroy/kick/moderate/rtp_forward are only
    possible for holders of the key. Several Conclave workers sharing a node must share
    this key; the generated default only suits a single process (e.g. embedded mode).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ws_url: str = Field(description="Janus API WebSocket URL, e.g. ws://127.0.0.1:8188")
    admin_url: str | None = Field(
        default=None, description="Janus admin WebSocket URL, e.g. ws://127.0.0.1:7188"
    )
    admin_secret: SecretStr | None = None
    api_secret: SecretStr | None = None
    room_secret_key: SecretStr = Field(default_factory=_new_room_secret_key)
    connect_timeout: float = Field(default=5.0, gt=0)
    request_timeout: float = Field(default=10.0, gt=0, description="Timeout for synchronous requests")
    negotiation_timeout: float = Field(
        default=20.0, gt=0, description="Timeout for plugin requests answered asynchronously (JSEP)"
    )
    keepalive_interval: float = Field(default=25.0, gt=0, description="Must stay below Janus session_timeout")
    reconnect_initial_delay: float = Field(default=0.5, gt=0)
    reconnect_max_delay: float = Field(default=15.0, gt=0)

    @field_validator("ws_url", "admin_url")
    @classmethod
    def _websocket_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("ws://", "wss://")):
            raise ValueError("must be a ws:// or wss:// URL")
        return value

    @model_validator(mode="after")
    def _admin_pairing(self) -> JanusNodeSettings:
        if self.admin_url is not None and self.admin_secret is None:
            raise ValueError("admin_secret is required when admin_url is set")
        if self.reconnect_max_delay < self.reconnect_initial_delay:
            raise ValueError("reconnect_max_delay must be >= reconnect_initial_delay")
        return self
