"""`conclave webhooks verify-signature`, as a receiver's operator would run it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from conclave.webhooks.signing import sign

CONCLAVE = str(Path(sys.executable).with_name("conclave"))


def verify(*args: str, body: bytes) -> subprocess.CompletedProcess[str]:
    command = [CONCLAVE, "webhooks", "verify-signature", *args]
    return subprocess.run(command, input=body.decode(), capture_output=True, text=True, timeout=60)


def test_verify_signature(tmp_path: Path) -> None:
    body = b'{"event":"room.created","timestamp":"2030-01-01T00:00:00Z","data":{}}'
    now = str(int(time.time()))
    signature = sign("a-webhook-secret-123", now, body)
    ok = verify("--secret", "a-webhook-secret-123", "--timestamp", now, "--signature", signature, body=body)
    assert (ok.returncode, ok.stdout.strip()) == (0, "valid")

    path = tmp_path / "body.json"
    path.write_bytes(body)
    from_file = [CONCLAVE, "webhooks", "verify-signature", "--secret", "a-webhook-secret-123"]
    from_file += ["--timestamp", now, "--signature", signature, "--body-file", str(path)]
    assert subprocess.run(from_file, capture_output=True, timeout=60).returncode == 0

    bad = verify("--secret", "other-secret-123456", "--timestamp", now, "--signature", signature, body=body)
    assert bad.returncode == 1 and "does not match" in bad.stderr

    old = "1000000000"
    stale = verify(
        "--secret",
        "a-webhook-secret-123",
        "--timestamp",
        old,
        "--signature",
        sign("a-webhook-secret-123", old, body),
        body=body,
    )
    assert stale.returncode == 1 and "tolerance" in stale.stderr
