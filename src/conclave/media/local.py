"""Run a private Janus next to Conclave for the embedded (single host) mode.

The generated configuration only exposes what Conclave needs: the WebSocket API and
admin API on 127.0.0.1 (or, in a network namespace, on the namespace's veth address) and
the videoroom (plus textroom/streaming/audiobridge) plugins.
Nothing from /etc/janus is read, so a distro-wide Janus service and this child never
interfere.

ICE and loopback: Janus 1.1.x never gathers candidates on loopback interfaces (its
interface walk skips IFF_LOOPBACK, and libnice's fallback enumeration does too), so
``ice_enforce_list = "lo"`` matches nothing and ICE cannot be confined to 127.0.0.1.
Media therefore needs at least one non-loopback address on the host; peers on the same
host still reach it locally (the kernel delivers traffic to its own addresses via lo).
``ice_enforce_list`` can pin the interfaces (e.g. ``"eth0"``); no STUN/TURN and no
1:1 NAT mapping are configured, so only host candidates are offered.

Where media must not touch any real interface (tests, CI, shared hosts), pass a
:class:`~conclave.media.netns.NetworkNamespace`: Janus then runs inside it, offers only
the namespace end of its veth, and the APIs listen on that address for the host to reach.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from conclave.media.janus.client import JanusAdminClient, JanusClient
from conclave.media.janus.config import JanusNodeSettings
from conclave.media.netns import NetworkNamespace
from conclave.media.port import MediaError, MediaNodeUnavailable

__all__ = [
    "JanusLayout",
    "JanusNotInstalled",
    "LocalJanus",
    "LocalJanusError",
    "embedded_janus",
    "find_janus_layout",
]

logger = logging.getLogger(__name__)

WANTED_PLUGINS = ("videoroom", "textroom", "streaming", "audiobridge")
WANTED_TRANSPORTS = ("websockets",)


class LocalJanusError(MediaError):
    """The embedded Janus could not be started or did not become ready."""


class _PortTaken(LocalJanusError):
    """Janus exited because a port picked for it was taken in the meantime."""


class JanusNotInstalled(LocalJanusError):
    """No usable ``janus`` binary or plugin folders were found on this host."""


@dataclass(frozen=True)
class JanusLayout:
    """Where an installed Janus keeps its binary and loadable modules."""

    binary: Path
    plugins: Path
    transports: Path
    events: Path
    loggers: Path


def _module_names(folder: Path) -> list[str]:
    """The file names Janus will try to load: it only loads ``*.so`` entries."""
    if not folder.is_dir():
        return []
    return sorted(
        p.name for p in folder.iterdir() if p.name.startswith("libjanus_") and p.name.endswith(".so")
    )


def find_janus_layout(binary: str = "janus") -> JanusLayout:
    """Locate the Janus binary and module folders (Debian multiarch or /opt/janus builds).

    Debian's package installs modules under ``/usr/lib/<triplet>/janus/``; source builds
    default to ``<prefix>/lib/janus/``. Both are derived from the binary's prefix.
    """
    resolved = shutil.which(binary)
    if resolved is None:
        raise JanusNotInstalled(
            f"Janus binary {binary!r} not found on PATH; install it (Debian/Ubuntu: apt-get install janus)"
        )
    path = Path(resolved).resolve()
    prefix = path.parent.parent
    candidates = [
        *sorted((prefix / "lib").glob("*/janus")),
        prefix / "lib" / "janus",
        prefix / "lib64" / "janus",
    ]
    for base in candidates:
        if (base / "plugins").is_dir() and any(
            name == "libjanus_videoroom.so" for name in _module_names(base / "plugins")
        ):
            return JanusLayout(path, base / "plugins", base / "transports", base / "events", base / "loggers")
    raise JanusNotInstalled(
        f"found {path} but no Janus plugin folder with the videoroom plugin under {prefix}/lib"
    )


_PORT_ATTEMPTS = 3
# What Janus's WebSockets transport logs when it cannot bind its port.
_PORT_TAKEN_MARKER = "Error creating vhost for Websockets server"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class LocalJanus:
    """A Janus child process with a generated configuration.

    Use as ``async with LocalJanus() as janus:`` then connect to ``janus.url`` /
    ``janus.admin_url`` with ``janus.admin_secret`` (or use :meth:`node_settings`).
    The process is stopped with SIGTERM, then SIGKILL after ``stop_timeout``.

    With ``netns`` (an already created :class:`NetworkNamespace`, owned by the caller),
    Janus runs inside that namespace: both APIs bind to ``netns.ns_ip`` (the host reaches
    them over the veth; 127.0.0.1 inside the namespace is not the host's), and ICE is
    pinned to the namespace's veth end unless ``ice_enforce_list`` says otherwise.
    ``ip netns exec`` execs Janus in place, so :attr:`pid` is Janus' own pid.
    """

    def __init__(
        self,
        *,
        binary: str = "janus",
        work_dir: Path | None = None,
        ice_enforce_list: str | None = None,
        rtp_port_range: tuple[int, int] = (20000, 40000),
        debug_level: int = 2,
        session_timeout: int = 60,
        startup_timeout: float = 15.0,
        stop_timeout: float = 5.0,
        netns: NetworkNamespace | None = None,
    ) -> None:
        self._binary = binary
        # Absolute: Janus resolves its config and plugin paths from its own working directory.
        self._work_dir = work_dir.resolve() if work_dir is not None else None
        self._netns = netns
        self._ice_enforce_list = ice_enforce_list
        self._rtp_port_range = rtp_port_range
        self._debug_level = debug_level
        self._session_timeout = session_timeout
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._ws_port = 0
        self._admin_port = 0
        self.admin_secret = secrets.token_urlsafe(24)
        self.config_dir = Path()
        self.log_file = Path()

    @property
    def netns(self) -> NetworkNamespace | None:
        return self._netns

    @property
    def bind_ip(self) -> str:
        """Where the APIs listen: 127.0.0.1, or the namespace end of the veth."""
        return self._netns.ns_ip if self._netns is not None else "127.0.0.1"

    @property
    def url(self) -> str:
        return f"ws://{self.bind_ip}:{self._ws_port}"

    @property
    def admin_url(self) -> str:
        return f"ws://{self.bind_ip}:{self._admin_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def node_settings(self, **overrides: object) -> JanusNodeSettings:
        """Settings for a :class:`JanusClient` talking to this process."""
        values: dict[str, object] = {
            "ws_url": self.url,
            "admin_url": self.admin_url,
            "admin_secret": self.admin_secret,
        }
        values.update(overrides)
        return JanusNodeSettings.model_validate(values)

    async def __aenter__(self) -> LocalJanus:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Write the configuration, spawn Janus and wait until it answers ``info``.

        Ports picked here were free a moment before Janus binds them, and another process (an
        outgoing connection's ephemeral port, say) can take one in between. Janus then exits
        at once; it is started again on fresh ports, a few times.
        """
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            picked_ports = not self._ws_port
            try:
                await self._start_once()
                return
            except _PortTaken:
                if not picked_ports or attempt == _PORT_ATTEMPTS:
                    raise
                logger.warning("Janus could not bind %s or %s; retrying", self._ws_port, self._admin_port)
                self._ws_port = self._admin_port = 0

    async def _start_once(self) -> None:
        layout = find_janus_layout(self._binary)
        if self._netns is not None and not self._netns.created:
            raise LocalJanusError(f"network namespace {self._netns.name or '(new)'} is not created")
        if self._work_dir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="conclave-janus-")
            base = Path(self._tempdir.name)
        else:
            base = self._work_dir
            base.mkdir(parents=True, exist_ok=True)
        self.config_dir = base / "conf"
        self.config_dir.mkdir(exist_ok=True)
        self.log_file = base / "janus.log"
        # Keep the ports across stop()/start() so clients can reconnect. In a namespace they
        # are only probed on the host, but a fresh namespace has nothing else listening.
        if not self._ws_port:
            self._ws_port = _free_port()
            self._admin_port = _free_port()
            while self._admin_port == self._ws_port:
                self._admin_port = _free_port()
        self._write_config(layout)
        prefix = self._netns.command_prefix() if self._netns is not None else []
        args = [
            *prefix,
            str(layout.binary),
            "-C",
            str(self.config_dir / "janus.jcfg"),
            "-F",
            str(self.config_dir),
            "--disable-colors",
        ]
        logger.info("starting %s (api %s, admin %s)", " ".join(args), self.url, self.admin_url)
        with self.log_file.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                cwd=base,
            )
        try:
            await asyncio.wait_for(self._wait_ready(), self._startup_timeout)
        except (TimeoutError, LocalJanusError) as exc:
            tail = self._log_tail()
            await self.stop()
            failure = _PortTaken if _PORT_TAKEN_MARKER in tail else LocalJanusError
            message = f"Janus did not become ready: {exc or 'timeout'}\n--- janus log ---\n{tail}"
            raise failure(message) from exc

    async def stop(self) -> None:
        """Terminate the child (SIGTERM, then SIGKILL) and drop the temporary config."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), self._stop_timeout)
            except TimeoutError:
                logger.warning("Janus pid %s ignored SIGTERM; killing it", process.pid)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    async def _wait_ready(self) -> None:
        settings = self.node_settings(connect_timeout=1.0, request_timeout=2.0)
        while True:
            if self._process is None or self._process.returncode is not None:
                code = None if self._process is None else self._process.returncode
                raise LocalJanusError(f"Janus exited with code {code}")
            client = JanusClient(settings)
            try:
                await client.connect()
                await client.info()
                admin = JanusAdminClient(
                    self.admin_url, self.admin_secret, connect_timeout=1.0, request_timeout=2.0
                )
                try:
                    await admin.info()
                finally:
                    await admin.close()
                return
            except MediaNodeUnavailable:
                await asyncio.sleep(0.1)
            finally:
                await client.close()

    def _log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _write_config(self, layout: JanusLayout) -> None:
        disabled_plugins = [
            n for n in _module_names(layout.plugins) if n[len("libjanus_") : -3] not in WANTED_PLUGINS
        ]
        disabled_transports = [
            n for n in _module_names(layout.transports) if n[len("libjanus_") : -3] not in WANTED_TRANSPORTS
        ]
        low, high = self._rtp_port_range
        nat_extra = ""
        ice_enforce_list = self._ice_enforce_list
        if ice_enforce_list is None and self._netns is not None:
            ice_enforce_list = self._netns.ns_interface  # the veth is the only way out
        if ice_enforce_list:
            nat_extra = f"    ice_enforce_list = {_quote(ice_enforce_list)}\n"
        janus_cfg = f"""general: {{
    configs_folder = {_quote(str(self.config_dir))}
    plugins_folder = {_quote(str(layout.plugins))}
    transports_folder = {_quote(str(layout.transports))}
    events_folder = {_quote(str(layout.events))}
    loggers_folder = {_quote(str(layout.loggers))}
    debug_level = {self._debug_level}
    admin_secret = {_quote(self.admin_secret)}
    server_name = "conclave-embedded"
    session_timeout = {self._session_timeout}
    protected_folders = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sbin", "/sys", "/usr"]
}}
certificates: {{
}}
media: {{
    rtp_port_range = "{low}-{high}"
}}
nat: {{
    nice_debug = false
    full_trickle = true
{nat_extra}}}
plugins: {{
    disable = {_quote(",".join(disabled_plugins))}
}}
transports: {{
    disable = {_quote(",".join(disabled_transports))}
}}
loggers: {{
    disable = {_quote(",".join(_module_names(layout.loggers)))}
}}
events: {{
    broadcast = false
}}
"""
        websockets_cfg = f"""general: {{
    json = "plain"
    ws = true
    ws_port = {self._ws_port}
    ws_ip = {_quote(self.bind_ip)}
    wss = false
}}
admin: {{
    admin_ws = true
    admin_ws_port = {self._admin_port}
    admin_ws_ip = {_quote(self.bind_ip)}
    admin_wss = false
}}
"""
        files = {"janus.jcfg": janus_cfg, "janus.transport.websockets.jcfg": websockets_cfg}
        # Plugins log an error and fall back to defaults without a file; an empty one is quieter.
        for plugin in WANTED_PLUGINS:
            files[f"janus.plugin.{plugin}.jcfg"] = "general: {\n}\n"
        for name, text in files.items():
            path = self.config_dir / name
            path.write_text(text)
            os.chmod(path, 0o600)


@contextlib.asynccontextmanager
async def embedded_janus(*, netns: bool = False, **options: Any) -> AsyncIterator[LocalJanus]:
    """The server's embedded Janus: a :class:`LocalJanus`, optionally in a fresh namespace.

    ``netns=True`` is what ``CONCLAVE_JANUS_NETNS=1`` asks for: a new
    :class:`NetworkNamespace` is created for this Janus and deleted after it stops, so its
    media only ever crosses the private veth (peers must be on this host). ``options`` go
    to :class:`LocalJanus`. Raises ``NetnsUnavailable`` when namespaces cannot be used.
    """
    if not netns:
        async with LocalJanus(**options) as janus:
            yield janus
        return
    async with NetworkNamespace() as namespace, LocalJanus(netns=namespace, **options) as janus:
        yield janus
