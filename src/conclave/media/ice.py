"""Confine the host candidates of Python WebRTC peers (aiortc/aioice) to chosen addresses.

Why: aioice gathers a host candidate on every address of every interface
(``aioice.ice.get_host_addresses``) and aiortc exposes no option to choose them. A peer
talking to a Janus in a network namespace (:mod:`conclave.media.netns`) must offer only the
host end of the veth, or its connectivity checks and media could use a real interface.

How: :func:`restrict_host_addresses` sets a context variable for the current task; a
wrapper installed once around ``aioice.ice.get_host_addresses`` keeps only the listed
addresses while the variable is set and is transparent otherwise. Being a context variable,
the restriction follows the tasks started inside the block (aiortc gathers every transport
in its own task, which copies the context) and never leaks to unrelated, concurrent peers
or outlives the block, unlike a plain monkeypatch swapped in and out around an ``await``.

aiortc/aioice are not runtime dependencies of Conclave: they are imported on first use.
Used by the media tests' peers (``tests/media/rtc_helpers.py``); meant for ``conclave.sdk``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Collection, Iterator

__all__ = ["restrict_host_addresses"]

_allowed: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar(
    "conclave_ice_allowed_host_addresses", default=None
)
_MARK = "__conclave_restricted__"


def _install() -> None:
    """Wrap ``aioice.ice.get_host_addresses`` once (idempotent, process wide, transparent)."""
    from aioice import ice  # local import: aioice is only needed where Python peers run

    original: Callable[[bool, bool], list[str]] = ice.get_host_addresses
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = original(use_ipv4, use_ipv6)
        allowed = _allowed.get()
        if allowed is None:
            return addresses
        return [address for address in addresses if address in allowed]

    setattr(get_host_addresses, _MARK, True)
    ice.get_host_addresses = get_host_addresses


@contextlib.contextmanager
def restrict_host_addresses(addresses: Collection[str]) -> Iterator[None]:
    """Inside the block, aioice gathers host candidates only on ``addresses``.

    Wrap the calls that gather (aiortc: ``RTCPeerConnection.setLocalDescription``). An
    address not present on this host yields no candidate, so ICE fails instead of
    falling back to other interfaces.
    """
    if not addresses:
        raise ValueError("at least one address is required")
    _install()
    token = _allowed.set(frozenset(addresses))
    try:
        yield
    finally:
        _allowed.reset(token)
