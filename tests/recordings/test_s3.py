"""Recordings stored in an S3-compatible bucket.

Stand-in: ``moto_server`` (moto[server], a local S3-compatible server) plays the bucket; the
adapter speaks plain S3 through boto3, so any S3-compatible store (MinIO, Ceph, AWS) works the
same way. Downloads from a bucket go through the ``StreamingResponse`` range path.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conclave.sdk import Participant
from tests.conftest import missing_component
from tests.realtime.conftest import Server, new_api
from tests.recordings.conftest import ffprobe, ice_addresses, recording_server, wait_status

BUCKET = "conclave-recordings"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = Path(sys.executable).with_name("moto_server")
    if not binary.exists() and shutil.which("moto_server") is None:
        missing_component("moto_server is not installed (pip install 'moto[server]')")
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        import boto3

        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        ).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _objects(endpoint: str) -> list[dict[str, Any]]:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    contents: list[dict[str, Any]] = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return contents


async def test_recording_in_a_bucket_downloads_by_range_and_is_deleted(
    s3_endpoint: str, tmp_path: Path
) -> None:
    server: Server = recording_server(
        tmp_path,
        CONCLAVE_STORAGE_URL=f"s3://{BUCKET}/prefix",
        CONCLAVE_STORAGE_ENDPOINT_URL=s3_endpoint,
        CONCLAVE_STORAGE_ACCESS_KEY_ID="test",
        CONCLAVE_STORAGE_SECRET_ACCESS_KEY="test",
    )
    server.start()
    try:
        async with asyncio.timeout(150):
            async for api in new_api(server):
                room = (await api.room(recordings_enabled=True, kind="audio"))["friendly_url"]
                token = await api.token(room, u="Ann", role="moderator")
                ann = Participant(
                    server.base, token=token, ice_addresses=await ice_addresses(server), timeout=20
                )
                await ann.join()
                await ann.publish(video=False)
                recording = (await api.post(f"/api/v1/rooms/{room}/recordings/start")).json()
                await asyncio.sleep(4)
                await api.post(f"/api/v1/rooms/{room}/recordings/stop")
                await ann.leave()
                ready = await wait_status(api, recording["id"], {"ready", "failed"})
                assert ready["status"] == "ready", ready["error"]

                keys = [o["Key"] for o in _objects(s3_endpoint)]
                assert len(keys) == 1 and keys[0].startswith("prefix/")
                assert keys[0].endswith(f"{recording['id']}/{ready['files'][0]['filename']}")
                assert not (server.data_dir / "recordings" / "files").exists()

                url = f"/api/v1/recordings/{recording['id']}/download"
                full = await api.http.get(url, headers=api.headers)
                assert full.status_code == 200 and len(full.content) == ready["size"]
                (tmp_path / "a.m4a").write_bytes(full.content)
                assert [s["codec_name"] for s in ffprobe(tmp_path / "a.m4a")["streams"]] == ["aac"]
                part = await api.http.get(url, headers={**api.headers, "Range": "bytes=-100"})
                assert part.status_code == 206 and part.content == full.content[-100:]
                assert (
                    part.headers["content-range"]
                    == f"bytes {ready['size'] - 100}-{ready['size'] - 1}/{ready['size']}"
                )
                bad = await api.http.get(url, headers={**api.headers, "Range": f"bytes={ready['size']}-"})
                assert bad.status_code == 416

                deleted = await api.http.delete(f"/api/v1/recordings/{recording['id']}", headers=api.headers)
                assert deleted.status_code == 204
                assert _objects(s3_endpoint) == []
    finally:
        server.stop()
