"""The seeded data set: deterministic, consistent references, numbers in creation order."""

from __future__ import annotations

from datetime import UTC, datetime

from emulator.accounts import parse_accounts
from fake_servicenow.config import DEV_ACCOUNTS
from fake_servicenow.dataset import generate

ANCHOR_MS = int(datetime(2026, 11, 30, 12, tzinfo=UTC).timestamp() * 1000)
ACCOUNTS = parse_accounts(DEV_ACCOUNTS, variable="X", flags=("noincidents",))


def build(seed: int = 1, incidents: int = 400) -> dict[str, list[dict[str, str]]]:
    return generate(
        seed=seed, incidents=incidents, groups=5, days=90, anchor_ms=ANCHOR_MS, accounts=ACCOUNTS
    ).tables


def test_same_seed_same_records_other_seed_other_records() -> None:
    assert build() == build()
    assert build(seed=2)["incident"] != build()["incident"]


def test_references_and_numbers() -> None:
    tables = build()
    incidents = tables["incident"]
    groups = {g["sys_id"] for g in tables["sys_user_group"]}
    users = {u["sys_id"] for u in tables["sys_user"]}
    assert len(groups) == 5
    assert len({r["sys_id"] for r in incidents}) == 400
    assert [r["number"] for r in incidents] == [f"INC{10001 + i:07d}" for i in range(400)]
    assert [r["opened_at"] for r in incidents] == sorted(r["opened_at"] for r in incidents)
    assert all(r["assignment_group"] in groups for r in incidents)
    assert all(r["caller_id"] in users for r in incidents)
    assert all(r["assigned_to"] in users for r in incidents if r["assigned_to"])
    assert all(r["opened_at"] <= r["sys_updated_on"] for r in incidents)
    assert all(r["sys_created_on"] == r["opened_at"] for r in incidents)
    assert {u["user_name"] for u in tables["sys_user"]} >= {"admin", "no.incidents"}


def test_updates_fall_inside_the_window() -> None:
    incidents = build()["incident"]
    assert min(r["sys_updated_on"] for r in incidents) >= "2026-09-01 12:00:00"
    assert max(r["sys_updated_on"] for r in incidents) < "2026-11-30 12:00:00"
    assert all(r["active"] == ("true" if r["state"] in "123" else "false") for r in incidents)
