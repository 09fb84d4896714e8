"""Project favicons and logos: checked by content, stored under the data dir, served publicly.

Files live at ``<data_dir>/xrcloud/storage/<kind>/<shard>/<project id><ext>`` and are served at
``/storage/<kind>/<shard>/<project id><ext>``, the path shape of XRCLOUD's own asset URLs. The
type is read from the file's first bytes (never from its name or declared type), and SVG is not
accepted because it can carry script.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from conclave.compat.xrcloud.errors import PayloadTooLarge, UnsupportedMediaType
from conclave.kit.errors import BadRequest, NotFound

KINDS = ("favicon", "logo")
LIMITS = {"favicon": 256 * 1024, "logo": 2 * 1024 * 1024}
ALLOWED = {"favicon": (".ico", ".png", ".gif"), "logo": (".png", ".jpg", ".gif", ".webp")}
MEDIA_TYPES = {
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
_NAME = re.compile(r"^[0-9a-f-]{36}\.(ico|png|jpg|gif|webp)$")


def sniff(content: bytes) -> str | None:
    """The file's extension from its magic bytes, or None for anything else."""
    if content.startswith(b"\x00\x00\x01\x00"):
        return ".ico"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if content.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return ".gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return ".webp"
    return None


@dataclass(frozen=True)
class CheckedImage:
    kind: str
    extension: str
    content: bytes


def check(kind: str, content: bytes) -> CheckedImage:
    """Refuse empty (400), oversized (413) and unrecognised or disallowed (415) files."""
    if not content:
        raise BadRequest(f"{kind} is an empty file", code="empty_file")
    if len(content) > LIMITS[kind]:
        raise PayloadTooLarge(f"{kind} may be at most {LIMITS[kind] // 1024} KiB")
    extension = sniff(content)
    if extension not in ALLOWED[kind]:
        allowed = ", ".join(ext.lstrip(".") for ext in ALLOWED[kind])
        raise UnsupportedMediaType(f"{kind} must be one of: {allowed}")
    return CheckedImage(kind, extension, content)


class ProjectAssets:
    def __init__(self, data_dir: Path, public_url: str) -> None:
        self.root = data_dir / "xrcloud" / "storage"
        self.public_url = public_url

    def _path(self, kind: str, project_id: str, extension: str) -> Path:
        return self.root / kind / project_id[:3] / f"{project_id}{extension}"

    async def save(self, project_id: str, image: CheckedImage) -> None:
        path = self._path(image.kind, project_id, image.extension)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            for old in path.parent.glob(f"{project_id}.*"):
                old.unlink()
            temporary = path.with_suffix(path.suffix + ".part")
            temporary.write_bytes(image.content)
            temporary.replace(path)

        await asyncio.to_thread(write)

    def url(self, kind: str, project_id: str) -> str | None:
        folder = self.root / kind / project_id[:3]
        found = sorted(p for p in folder.glob(f"{project_id}.*") if p.suffix in MEDIA_TYPES)
        if not found:
            return None
        return f"{self.public_url}/storage/{kind}/{project_id[:3]}/{found[0].name}"

    def file(self, kind: str, shard: str, name: str) -> tuple[Path, str]:
        """A stored file by its public path; anything not shaped like one is simply not found."""
        if kind not in KINDS or not _NAME.match(name) or name[:3] != shard:
            raise NotFound("file not found", code="file_not_found")
        path = self.root / kind / shard / name
        if not path.is_file():
            raise NotFound("file not found", code="file_not_found")
        return path, MEDIA_TYPES[path.suffix]
