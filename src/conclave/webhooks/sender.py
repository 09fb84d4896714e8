"""The HTTP side of delivery: one shared ``httpx.AsyncClient``, bounded time, capped bodies,
and the private-address rule (refused in production, allowed in embedded mode).

Addresses are checked when an endpoint is saved *and* before every request, because a name
that resolved to a public address yesterday may resolve to ``127.0.0.1`` today.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from conclave import __version__
from conclave.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

_RESOLVE_TIMEOUT_SECONDS = 5.0


class DestinationRefused(Exception):
    """The URL is not one Conclave will post to (scheme, host, or a private address)."""


def parse_endpoint(url: str) -> tuple[str, int]:
    """Return (host, port) of an http(s) URL, or raise ``DestinationRefused`` saying what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise DestinationRefused("the endpoint must be an http:// or https:// URL")
    if not parts.hostname:
        raise DestinationRefused("the endpoint URL has no host")
    if parts.username or parts.password:
        raise DestinationRefused("credentials in the endpoint URL are not supported; use the secret")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_destination(url: str, *, allow_private: bool) -> None:
    """Refuse non-http(s) URLs always, and private/loopback/link-local targets unless allowed."""
    host, port = parse_endpoint(url)
    if allow_private:
        return
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), _RESOLVE_TIMEOUT_SECONDS
            )
        except (OSError, TimeoutError) as exc:
            raise DestinationRefused(f"the endpoint host {host!r} does not resolve: {exc}") from None
        addresses = sorted({str(info[4][0]) for info in infos})
    private = [address for address in addresses if not _is_public(address)]
    if private:
        raise DestinationRefused(
            f"the endpoint host {host!r} is a private, loopback or reserved address ({', '.join(private)}); "
            "such receivers are refused in production mode (CONCLAVE_WEBHOOKS_ALLOW_PRIVATE=true allows them)"
        )


@dataclass(frozen=True)
class SendResult:
    status_code: int | None = None
    response: str | None = None
    error: str | None = None
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    """Posts signed deliveries; one instance (and one connection pool) per runner."""

    def __init__(self, *, timeout: float, allow_private: bool, body_limit: int) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self.body_limit = body_limit
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,  # a redirect could lead to an address we would refuse
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
                headers={"User-Agent": f"Conclave-Webhooks/{__version__}"},
            )
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def send(
        self, *, url: str, secret: str, delivery_id: str, event_type: str, body: bytes
    ) -> SendResult:
        try:
            await check_destination(url, allow_private=self.allow_private)
        except DestinationRefused as exc:
            return SendResult(error=str(exc), refused=True)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            TIMESTAMP_HEADER: timestamp,
            DELIVERY_HEADER: delivery_id,
            EVENT_HEADER: event_type,
        }
        try:
            # httpx bounds each phase; this bounds the whole exchange, slow-drip responses included.
            async with asyncio.timeout(self.timeout):
                async with self._http().stream("POST", url, content=body, headers=headers) as response:
                    captured = bytearray()
                    async for chunk in response.aiter_bytes():
                        captured += chunk
                        if len(captured) >= self.body_limit:
                            break
                    text = bytes(captured[: self.body_limit]).decode("utf-8", errors="replace")
                    return SendResult(status_code=response.status_code, response=text)
        except TimeoutError:
            return SendResult(error=f"timed out after {self.timeout:g} s")
        except httpx.HTTPError as exc:
            return SendResult(error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
