"""Fidelity, judged by ServiceNow's own Python client: `pysnc` (GlideRecord over the Table
API), installed from PyPI in an isolated environment, reads groups and incidents from
fake-servicenow (over HTTPS: pysnc refuses http://), and what it reads must match the seeded
data set. Needs PyPI: without it the test fails with a message saying so (marker `pypi`).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import pytest

from emulator.accounts import parse_accounts
from emulator.process import emulator_process, isolated_run
from fake_servicenow.config import DEV_ACCOUNTS, DEV_PASSWORD, DEV_USER, NO_INCIDENTS
from fake_servicenow.dataset import generate
from fake_servicenow.tables import INCIDENT_STATES

pytestmark = pytest.mark.pypi

CLIENTS = Path(__file__).parent / "clients"
PYSNC = "pysnc==1.2.1"
SEED, INCIDENTS, NOW = 4, 350, "2026-11-30T12:00:00+00:00"
SINCE = "2026-06-01 00:00:00"


def test_pysnc_reads_groups_and_incidents(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    argv = [sys.executable, "-m", "fake_servicenow.main", "--host", "127.0.0.1", "--port", "0"]
    argv += ["--incidents", str(INCIDENTS), "--seed", str(SEED), "--now", NOW]
    argv += ["--tls", "--tls-ca-file", str(ca_file)]
    with emulator_process(argv) as snow:
        url = snow.base_url.replace("127.0.0.1", "localhost")
        # requests lets REQUESTS_CA_BUNDLE override a session's own `verify`.
        client_env = dict(os.environ, REQUESTS_CA_BUNDLE=str(ca_file))
        out = isolated_run(
            [PYSNC],
            [
                "python",
                str(CLIENTS / "pysnc_client.py"),
                url,
                DEV_USER,
                DEV_PASSWORD,
                SINCE,
                str(ca_file),
            ],
            env=client_env,
        )
    seen = json.loads(out)

    anchor_ms = int(datetime.fromisoformat(NOW).timestamp() * 1000)
    tables = generate(
        seed=SEED,
        incidents=INCIDENTS,
        groups=6,
        days=365,
        anchor_ms=anchor_ms,
        accounts=parse_accounts(DEV_ACCOUNTS, variable="X", flags=(NO_INCIDENTS,)),
    ).tables
    groups = sorted(tables["sys_user_group"], key=lambda g: g["name"])
    assert seen["groups"] == [[g["sys_id"], g["name"]] for g in groups]
    names = {g["sys_id"]: g["name"] for g in groups}
    labels = dict(INCIDENT_STATES)
    expected = sorted(
        (
            r
            for r in tables["incident"]
            if r["sys_updated_on"] >= SINCE and r["state"] in ("1", "2", "3")
        ),
        key=lambda r: r["number"],
    )
    assert 40 < len(expected) < INCIDENTS  # more than one page of 40
    assert seen["total"] == len(expected)
    assert seen["incidents"] == [
        {
            "sys_id": r["sys_id"],
            "number": r["number"],
            "state": r["state"],
            "state_label": labels[r["state"]],
            "group": r["assignment_group"],
            "group_name": names[r["assignment_group"]],
            "updated": r["sys_updated_on"],
        }
        for r in expected
    ]
    assert seen["get"] == {"found": True, "number": expected[0]["number"]}
