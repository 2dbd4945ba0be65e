"""The console's committed OpenAPI document matches a fresh export of connections-api."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_document_matches_the_api() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "web" / "scripts" / "export_openapi.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
