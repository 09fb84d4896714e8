"""Bring up the media nodes a server uses: remote Janus nodes, or a private local one.

``CONCLAVE_JANUS_URLS`` registers remote nodes; with none and a ``janus`` binary on the
host, the embedded server starts its own Janus (inside a fresh network namespace when
``CONCLAVE_JANUS_NETNS`` is on, so media never touches a real interface) and stops it on exit.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass

from conclave.config import Settings
from conclave.media.janus.adapter import JanusMediaServer
from conclave.media.janus.config import JanusNodeSettings
from conclave.media.local import LocalJanus
from conclave.media.netns import NetworkNamespace
from conclave.media.nodes import MediaNodes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MediaInfo:
    """What clients need to know about where media flows (e.g. the SDK's ICE restriction)."""

    nodes: tuple[str, ...]
    local: bool
    client_ice_addresses: tuple[str, ...]


async def start_media(settings: Settings, nodes: MediaNodes, stack: contextlib.AsyncExitStack) -> MediaInfo:
    room_secret = settings.janus_room_secret.get_secret_value() if settings.janus_room_secret else None
    extra: dict[str, object] = {"room_secret_key": room_secret} if room_secret else {}
    if settings.janus_urls:
        admin_secret = settings.janus_admin_secret.get_secret_value() if settings.janus_admin_secret else None
        for index, url in enumerate(u.strip() for u in settings.janus_urls.split(",") if u.strip()):
            admin_url = _admin_url(url, settings.janus_admin_port) if admin_secret else None
            node = JanusNodeSettings.model_validate(
                {"ws_url": url, "admin_url": admin_url, "admin_secret": admin_secret, **extra}
            )
            server = await JanusMediaServer.connect(node)
            stack.push_async_callback(server.aclose)
            nodes.add(f"janus-{index}", server)
        return MediaInfo(nodes=tuple(nodes.names), local=False, client_ice_addresses=())
    if not settings.local_janus or shutil.which("janus") is None:
        log.warning("no media node: set CONCLAVE_JANUS_URLS or install janus; rooms cannot carry media")
        return MediaInfo(nodes=(), local=False, client_ice_addresses=())
    netns = None
    if settings.janus_netns:
        netns = await stack.enter_async_context(NetworkNamespace())
    janus = await stack.enter_async_context(LocalJanus(work_dir=settings.data_dir / "janus", netns=netns))
    server = await JanusMediaServer.connect(janus.node_settings(**extra))
    stack.push_async_callback(server.aclose)
    nodes.add("local", server)
    addresses = (netns.host_ip,) if netns is not None else ()
    log.info("local Janus started at %s%s", janus.url, f" in namespace {netns.name}" if netns else "")
    return MediaInfo(nodes=("local",), local=True, client_ice_addresses=addresses)


def _admin_url(ws_url: str, admin_port: int) -> str:
    scheme, _, rest = ws_url.partition("://")
    host = rest.split("/", 1)[0].rsplit(":", 1)[0]
    return f"{scheme}://{host}:{admin_port}"
