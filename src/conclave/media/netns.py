"""An isolated "media host": a private network namespace joined to this host by a veth pair.

Why: Janus 1.1.x never gathers ICE candidates on loopback interfaces (see ``local.py``), so
a Janus on the host itself offers the host's real addresses (e.g. eth0) and media between
two processes on one machine would be addressed to, and carried on, that real interface.
Where traffic must stay off every real interface (CI, shared hosts, tests), Janus instead
runs inside a fresh network namespace whose only non-loopback interface is one end of a
veth pair. The other end stays on the host, so peers on the host reach Janus over the veth
and nothing else: the namespace has no default route and no other link.

Addressing: each namespace takes one /30 from :data:`NETNS_NETWORK` (``10.213.0.0/16``):
the host end gets the first usable address (``.1`` of the block), the namespace end the
second (``.2``). Blocks already present on a host interface are skipped, and allocation
is serialised with a lock file, so concurrent runs (other engineers, parallel CI jobs)
never share a block. IPv6 address generation is switched off on both ends, so the veth
carries IPv4 only and no link-local addresses exist to be offered as candidates.

Names: the namespace is ``cnv-<pid>-<n>``, the veth ends ``cnv<pid>h<n>`` (host) and
``cnv<pid>n<n>`` (namespace), unique per process and never reused while they exist.

Everything needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2's ``ip``; when that
is missing, :class:`NetnsUnavailable` says so. Teardown deletes the namespace and the host
end explicitly, is idempotent, and also runs when creation fails half way.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import itertools
import logging
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from conclave.media.port import MediaError

__all__ = [
    "NETNS_NETWORK",
    "NetnsError",
    "NetnsUnavailable",
    "NetworkNamespace",
    "netns_available",
]

logger = logging.getLogger(__name__)

NETNS_NETWORK = ipaddress.IPv4Network("10.213.0.0/16")
"""The fixed range every namespace's /30 comes from (host end ``.1``, namespace end ``.2``)."""

BLOCK_PREFIX = 30
NAME_PREFIX = "cnv"
IFNAMSIZ = 15  # Linux interface names: at most 15 bytes
COMMAND_TIMEOUT = 10.0
LOCK_FILE = Path(tempfile.gettempdir()) / "conclave-netns.lock"

_counter = itertools.count()


class NetnsError(MediaError):
    """A network namespace command failed."""


class NetnsUnavailable(NetnsError):
    """Network namespaces cannot be used here: not root, no ``ip`` binary, or creation refused."""


def netns_available(ip_binary: str = "ip") -> str | None:
    """``None`` when namespaces can be tried, else the reason they cannot (for skips and errors)."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN and CAP_SYS_ADMIN)"
    if shutil.which(ip_binary) is None:
        return f"{ip_binary!r} not found on PATH; install iproute2 (Debian/Ubuntu: apt-get install iproute2)"
    return None


_ORPHAN_NAME = re.compile(rf"{NAME_PREFIX}-(?P<pid>\d+)-(?P<n>\d+)")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _link_exists(interface: str) -> bool:
    """Whether ``interface`` exists in this process' (the host's) network namespace."""
    return Path("/sys/class/net", interface).exists()


@contextlib.contextmanager
def _allocation_lock() -> Iterator[None]:
    """Serialise subnet choice between processes: two runs must not pick the same free block.

    Held only for one ``ip addr show`` and one ``ip addr add``, so blocking is brief.
    """
    with LOCK_FILE.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class NetworkNamespace:
    """A fresh network namespace plus veth pair: an isolated host for processes like Janus.

    Use as ``async with NetworkNamespace() as ns:``; start processes inside it with
    ``ns.command_prefix() + argv``. They see only ``lo`` and the veth end ``ns.ns_interface``
    with ``ns.ns_ip``; the host reaches them at ``ns.ns_ip`` and they reach the host at
    ``ns.host_ip``. Processes still running inside at :meth:`close` are killed, because a
    namespace with live processes (and its veth) would outlive ``ip netns delete``.
    """

    def __init__(self, *, ip_binary: str = "ip", network: ipaddress.IPv4Network = NETNS_NETWORK) -> None:
        if network.prefixlen > BLOCK_PREFIX:
            raise ValueError(f"{network} is smaller than one /{BLOCK_PREFIX} block")
        self._ip = ip_binary
        self._network = network
        self.name = ""
        self.host_interface = ""
        self.ns_interface = ""
        self.host_ip = ""
        self.ns_ip = ""
        self.prefixlen = BLOCK_PREFIX
        self._created = False

    @property
    def created(self) -> bool:
        """True between a successful :meth:`create` and :meth:`close`."""
        return self._created

    def command_prefix(self) -> list[str]:
        """Prefix for an argv to run inside the namespace.

        ``ip netns exec`` enters the namespace and then execs the command without forking,
        so the spawned process id is the command's own (signals reach it directly).
        """
        if not self.name:
            raise NetnsError("the namespace has not been created")
        return [self._ip, "netns", "exec", self.name]

    async def __aenter__(self) -> NetworkNamespace:
        await self.create()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def create(self) -> None:
        """Create the namespace, the veth pair and their addresses; undo everything on failure."""
        if self._created:
            return
        reason = netns_available(self._ip)
        if reason is not None:
            raise NetnsUnavailable(reason)
        existing = set(await self._namespace_names())
        await self._remove_orphans(existing)
        pid = os.getpid()
        while True:
            n = next(_counter)
            name = f"{NAME_PREFIX}-{pid}-{n}"
            host_if, ns_if = f"{NAME_PREFIX}{pid}h{n}", f"{NAME_PREFIX}{pid}n{n}"
            if len(ns_if) > IFNAMSIZ:
                raise NetnsError(f"interface name {ns_if!r} exceeds {IFNAMSIZ} characters")
            if name not in existing and not _link_exists(host_if):
                break
        self.name, self.host_interface, self.ns_interface = name, host_if, ns_if
        try:
            await self._run("netns", "add", name, unavailable=True)
        except NetnsError:
            self.name = ""  # nothing was created (and the name may not be ours to delete)
            raise
        try:
            await self._setup()
        except BaseException:
            await self.close()
            raise
        self._created = True
        logger.info(
            "network namespace %s: host %s %s/%d <-> %s %s/%d",
            name, host_if, self.host_ip, self.prefixlen, ns_if, self.ns_ip, self.prefixlen,
        )  # fmt: skip

    async def _setup(self) -> None:
        name, host_if, ns_if = self.name, self.host_interface, self.ns_interface
        # Created with its peer directly inside the namespace: the namespace end never
        # appears on the host, not even briefly.
        await self._run("link", "add", host_if, "type", "veth", "peer", "name", ns_if, "netns", name)
        # IPv4 only on the veth: without link-local IPv6 there is nothing else to offer as a candidate.
        for command in (["link", "set", "dev", host_if], ["-n", name, "link", "set", "dev", ns_if]):
            try:
                await self._run(*command, "addrgenmode", "none")
            except NetnsError as exc:  # a kernel without IPv6: nothing to switch off
                logger.debug("addrgenmode none not applied: %s", exc)
        with _allocation_lock():
            block = await self._free_block()
            host_ip, ns_ip = list(block.hosts())[:2]
            await self._run("addr", "add", f"{host_ip}/{block.prefixlen}", "dev", host_if)
        self.host_ip, self.ns_ip, self.prefixlen = str(host_ip), str(ns_ip), block.prefixlen
        await self._run("-n", name, "addr", "add", f"{ns_ip}/{block.prefixlen}", "dev", ns_if)
        await self._run("link", "set", "dev", host_if, "up")
        await self._run("-n", name, "link", "set", "dev", ns_if, "up")
        await self._run("-n", name, "link", "set", "dev", "lo", "up")

    async def close(self) -> None:
        """Kill leftover processes inside, delete the namespace and the host veth end.

        Safe to call repeatedly and after a failed :meth:`create`; missing pieces are ignored.
        """
        if not self.name:
            return
        name, host_if = self.name, self.host_interface
        self._created = False
        with contextlib.suppress(NetnsError):
            pids = (await self._run("netns", "pids", name)).split()
            for pid in pids:
                logger.warning("killing pid %s still running in network namespace %s", pid, name)
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
        with contextlib.suppress(NetnsError):
            await self._run("netns", "delete", name)
        # Deleting a namespace destroys its veth end (and so the pair) asynchronously in the
        # kernel; delete the host end here too so the address is gone when close() returns.
        if host_if and _link_exists(host_if):
            with contextlib.suppress(NetnsError):
                await self._run("link", "delete", "dev", host_if)
        self.name = ""

    async def _free_block(self) -> ipaddress.IPv4Network:
        """The first /30 of the range (from a per-process offset) that no host interface uses."""
        used: list[ipaddress.IPv4Network] = []
        for line in (await self._run("-o", "-4", "addr", "show")).splitlines():
            fields = line.split()
            if "inet" in fields:
                used.append(ipaddress.IPv4Interface(fields[fields.index("inet") + 1]).network)
        blocks = list(self._network.subnets(new_prefix=BLOCK_PREFIX))
        start = (os.getpid() * 131) % len(blocks)
        for block in itertools.chain(blocks[start:], blocks[:start]):
            if not any(block.overlaps(net) for net in used):
                return block
        raise NetnsUnavailable(f"no free /{BLOCK_PREFIX} left in {self._network}")

    async def _remove_orphans(self, names: set[str]) -> None:
        """Delete namespaces whose creating process is gone (e.g. a server killed with SIGKILL).

        Only ``cnv-<pid>-<n>`` names whose ``<pid>`` no longer exists are touched, so another
        live run's namespace is never removed.
        """
        for name in sorted(names):
            match = _ORPHAN_NAME.fullmatch(name)
            if match is None or _pid_alive(int(match["pid"])):
                continue
            orphan = NetworkNamespace(ip_binary=self._ip)
            orphan.name = name
            orphan.host_interface = f"{NAME_PREFIX}{match['pid']}h{match['n']}"
            logger.info("removing network namespace %s left by a process that is gone", name)
            await orphan.close()
            names.discard(name)

    async def _namespace_names(self) -> list[str]:
        output = await self._run("netns", "list")
        return [line.split()[0] for line in output.splitlines() if line.strip()]

    async def _run(self, *args: str, unavailable: bool = False) -> str:
        """Run ``ip <args>``; a failure raises :class:`NetnsError` (or ``NetnsUnavailable``)."""
        try:
            process = await asyncio.create_subprocess_exec(
                self._ip,
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise NetnsUnavailable(f"cannot run {self._ip!r}: {exc}") from exc
        try:
            out, err = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise NetnsError(f"ip {' '.join(args)}: no answer within {COMMAND_TIMEOUT:g}s") from None
        if process.returncode != 0:
            error = NetnsUnavailable if unavailable else NetnsError
            raise error(f"ip {' '.join(args)} failed ({process.returncode}): {err.decode().strip()}")
        return out.decode()
