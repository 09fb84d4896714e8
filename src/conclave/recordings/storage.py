"""Where finished recordings live: a small port with a local-folder and an S3-compatible adapter.

The processing job writes its outputs to a local work folder first and then ``put``s each
file, so the same pipeline serves both backends. Downloads ask the store for a local path
(served by Starlette's ``FileResponse``, which handles ``Range``) or, for a bucket, for a
byte stream of one range.

``CONCLAVE_STORAGE_URL`` picks the adapter: ``file:///srv/conclave/recordings`` (or a plain
path) for a folder, ``s3://bucket/prefix`` for any S3-compatible bucket, with
``CONCLAVE_STORAGE_ENDPOINT_URL`` / ``_REGION`` / ``_ACCESS_KEY_ID`` / ``_SECRET_ACCESS_KEY``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from conclave.config import ConfigurationError, Settings

_CHUNK = 256 * 1024


class StorageError(RuntimeError):
    """The store refused or failed an operation (bad credentials, missing bucket, full disk)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


class Storage(Protocol):
    """What the recordings domain needs from a file store. Keys are ``/``-separated paths."""

    async def put(self, key: str, source: Path, content_type: str) -> StoredObject:
        """Copy a local file into the store under ``key`` (overwriting: jobs may run twice)."""
        ...

    async def delete_prefix(self, prefix: str) -> None:
        """Remove every object under ``prefix`` (a recording's folder); missing is fine."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int | None:
        """The object's size, or None when it does not exist."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A path on this host when the store is a folder (downloads use ``FileResponse``)."""
        ...

    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Stream bytes ``start``..``end`` inclusive."""
        ...

    def describe(self) -> str: ...


def _safe_key(key: str) -> str:
    parts = [part for part in key.split("/") if part]
    if not parts or any(part in (".", "..") for part in parts):
        raise StorageError(f"invalid storage key {key!r}")
    return "/".join(parts)


class LocalStorage:
    """A folder on this host (the embedded default: ``<data dir>/recordings/files``)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    async def put(self, key: str, source: Path, content_type: str) -> StoredObject:
        target = self._path(key)

        def copy() -> int:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(source, partial)
            # Atomic: a concurrent download sees the old file or the new one, never half of it.
            os.replace(partial, target)
            return target.stat().st_size

        return StoredObject(key=key, size=await asyncio.to_thread(copy))

    async def delete_prefix(self, prefix: str) -> None:
        folder = self._path(prefix)
        await asyncio.to_thread(shutil.rmtree, folder, True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def size(self, key: str) -> int | None:
        path = self._path(key)
        try:
            return (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            return None

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        with self._path(key).open("rb") as handle:
            await asyncio.to_thread(handle.seek, start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = await asyncio.to_thread(handle.read, min(_CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk

    def describe(self) -> str:
        return f"folder {self.root}"


class S3Storage:
    """Any S3-compatible bucket through boto3 (blocking calls run in worker threads)."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        *,
        endpoint_url: str | None,
        region: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
    ) -> None:
        try:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]
        except ImportError as exc:  # pragma: no cover - boto3 is a declared dependency
            raise ConfigurationError("an s3:// storage URL needs boto3 installed") from exc
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region or "us-east-1",
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, s3={"addressing_style": "path"}),
        )

    def _key(self, key: str) -> str:
        safe = _safe_key(key)
        return f"{self.prefix}/{safe}" if self.prefix else safe

    async def _call(self, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        try:
            return await asyncio.to_thread(getattr(self._client, method), **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(kwargs.get("Key", "")) from None
            raise StorageError(f"S3 {method} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 {method} failed: {exc}") from exc

    async def put(self, key: str, source: Path, content_type: str) -> StoredObject:
        from botocore.exceptions import BotoCoreError, ClientError

        name = self._key(key)
        try:
            # upload_file switches to multipart uploads for large files by itself.
            await asyncio.to_thread(
                self._client.upload_file,
                str(source),
                self.bucket,
                name,
                ExtraArgs={"ContentType": content_type},
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 upload of {name} failed: {exc}") from exc
        return StoredObject(key=key, size=(await asyncio.to_thread(source.stat)).st_size)

    async def delete_prefix(self, prefix: str) -> None:
        folder = self._key(prefix) + "/"
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": folder}
            if token:
                kwargs["ContinuationToken"] = token
            listing = await self._call("list_objects_v2", **kwargs)
            keys = [{"Key": item["Key"]} for item in listing.get("Contents", [])]
            if keys:
                await self._call(
                    "delete_objects", Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
                )
            if not listing.get("IsTruncated"):
                return
            token = listing.get("NextContinuationToken")

    async def size(self, key: str) -> int | None:
        try:
            head = await self._call("head_object", Bucket=self.bucket, Key=self._key(key))
        except FileNotFoundError:
            return None
        return int(head["ContentLength"])

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    def local_path(self, key: str) -> Path | None:
        return None

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        response = await self._call(
            "get_object", Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{end}"
        )
        body = response["Body"]
        try:
            while True:
                chunk = await asyncio.to_thread(body.read, _CHUNK)
                if not chunk:
                    return
                yield chunk
        finally:
            with contextlib.suppress(Exception):
                body.close()

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def storage_from_settings(settings: Settings) -> Storage:
    """Build the configured store; a malformed URL stops the server at start, not at first use."""
    url = settings.resolved_storage_url
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return LocalStorage(Path(unquote(parsed.path if parsed.scheme else url)))
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ConfigurationError(f"CONCLAVE_STORAGE_URL {url!r} names no bucket (s3://bucket/prefix)")
        secret = settings.storage_secret_access_key
        return S3Storage(
            parsed.netloc,
            parsed.path,
            endpoint_url=settings.storage_endpoint_url,
            region=settings.storage_region,
            access_key_id=settings.storage_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
        )
    raise ConfigurationError(
        f"CONCLAVE_STORAGE_URL must be a file:// path or s3://bucket/prefix, got {url!r}"
    )
