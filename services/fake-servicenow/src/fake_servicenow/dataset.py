"""The seeded data set: users, assignment groups and incidents, as ServiceNow stores them.

Every value is a string, as the Table API returns it; references hold the target's sys_id;
times are `YYYY-MM-DD HH:MM:SS` in UTC. Incidents are mutable (the churn knob updates them).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from emulator.accounts import Account
from emulator.seeding import DAY_MS, seeded, stable_hex, update_window
from fake_servicenow.tables import CATEGORIES

Record = dict[str, str]

GROUPS: tuple[tuple[str, str], ...] = (
    ("Service Desk", "First line support for every employee request"),
    ("Network", "LAN, WAN, Wi-Fi and VPN"),
    ("Hardware", "Laptops, phones, printers and peripherals"),
    ("Database", "Database platforms and backups"),
    ("Software", "Business applications and licences"),
    ("Identity and Access", "Accounts, SSO and permissions"),
    ("Facilities", "Buildings, badges and meeting rooms"),
    ("Security Operations", "Security incidents and vulnerabilities"),
    ("Service Desk EMEA", "First line support, Europe and Africa"),
    ("Service Desk APAC", "First line support, Asia and Pacific"),
    ("Cloud Platform", "Cloud accounts and infrastructure"),
    ("Payroll", "Salary, expenses and payroll systems"),
)
_FIRST = ("Abel", "Beth", "Carlos", "Dana", "Emeka", "Fran", "Gus", "Hana", "Ivan", "Jade")
_LAST = ("Tuter", "Anand", "Ruiz", "Kowalski", "Obi", "Lind", "Marsh", "Ito", "Petrov", "Nkosi")
_THINGS = (
    "VPN",
    "Laptop",
    "Printer on floor 3",
    "Email",
    "Wi-Fi",
    "SSO login",
    "Shared drive",
    "Payroll portal",
    "Badge reader",
    "Database backup",
    "Phone",
    "Monitor",
)
_PROBLEMS = (
    "is not working",
    "keeps disconnecting",
    "is very slow",
    "shows an error",
    "needs access",
    "must be replaced",
    "fails after the update",
)
_STATE_WEIGHTS = (("1", 4), ("2", 4), ("3", 1), ("6", 3), ("7", 6), ("8", 1))
_SECOND_MS = 1000


def snow_time(epoch_ms: int) -> str:
    """ServiceNow's stored time format, UTC: `2026-11-28 10:00:00`."""
    return datetime.fromtimestamp(epoch_ms // _SECOND_MS, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _system(created_ms: int, updated_ms: int, by: str = "admin", mods: int = 0) -> Record:
    return {
        "sys_created_on": snow_time(created_ms),
        "sys_created_by": by,
        "sys_updated_on": snow_time(updated_ms),
        "sys_updated_by": by,
        "sys_mod_count": str(mods),
    }


def _user(*, sys_id: str, user_name: str, first: str, last: str, title: str, at_ms: int) -> Record:
    return {
        "sys_id": sys_id,
        "user_name": user_name,
        "name": f"{first} {last}".strip(),
        "first_name": first,
        "last_name": last,
        "email": f"{user_name}@example.com",
        "title": title,
        "active": "true",
    } | _system(at_ms, at_ms)


def account_user(account: Account, at_ms: int) -> Record:
    """The sys_user record of a configured account (so verify can look itself up)."""
    login = account.login
    if login == "admin":
        first, last = "System", "Administrator"
    else:
        parts = [part.capitalize() for part in login.replace("_", ".").split(".") if part]
        first, last = (parts[0], " ".join(parts[1:])) if parts else (login, "")
    return _user(
        sys_id=stable_hex("sys_user", login),
        user_name=login,
        first=first,
        last=last,
        title="Account",
        at_ms=at_ms,
    )


@dataclass
class Dataset:
    """Every table's records in sys_id-stable order, and indexes by sys_id."""

    anchor_ms: int
    tables: dict[str, list[Record]]
    by_id: dict[str, dict[str, Record]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {
            name: {record["sys_id"]: record for record in records}
            for name, records in self.tables.items()
        }


def generate(
    *,
    seed: int,
    incidents: int,
    groups: int,
    days: float,
    anchor_ms: int,
    accounts: tuple[Account, ...],
) -> Dataset:
    """Build the data set; the same arguments give the same records."""
    oldest_ms, newest_ms = update_window(anchor_ms, days)
    setup_ms = oldest_ms - 30 * DAY_MS  # users and groups exist before any incident
    users = [account_user(account, setup_ms) for account in accounts]
    people = [
        _user(
            sys_id=stable_hex("sys_user", seed, i),
            user_name=f"{first.lower()}.{last.lower()}",
            first=first,
            last=last,
            title="Support engineer" if i % 2 else "Employee",
            at_ms=setup_ms,
        )
        for i, (first, last) in enumerate(zip(_FIRST, _LAST, strict=True))
    ]
    users += people
    group_rows = [
        {
            "sys_id": stable_hex("sys_user_group", seed, i),
            "name": name,
            "description": description,
            "email": f"{name.lower().replace(' ', '.')}@example.com",
            "manager": people[i % len(people)]["sys_id"],
            "active": "true",
        }
        | _system(setup_ms, setup_ms)
        for i, (name, description) in enumerate(GROUPS[:groups])
    ]
    rng = seeded(seed, "incident")
    rows = [
        _incident_draft(rng, oldest_ms, newest_ms, group_rows, people) for _ in range(incidents)
    ]
    # Numbers grow with creation time, as on a real instance.
    rows.sort(key=lambda row: (row["opened_at"], row["sys_id"]))
    for index, row in enumerate(rows):
        row["number"] = f"INC{10001 + index:07d}"
        row["description"] = (
            f"{row['short_description']}. Reported as {row['number']}. "
            "Steps taken so far: restarted the device and tried again."
        )
    return Dataset(
        anchor_ms=anchor_ms,
        tables={"sys_user": users, "sys_user_group": group_rows, "incident": rows},
    )


def _incident_draft(
    rng: random.Random,
    oldest_ms: int,
    newest_ms: int,
    groups: list[Record],
    people: list[Record],
) -> Record:
    updated = rng.randint(oldest_ms, newest_ms)
    # Most incidents were opened shortly before their last update; some long before.
    created = updated - int(rng.expovariate(1 / (3 * DAY_MS)))
    states, weights = zip(*_STATE_WEIGHTS, strict=True)
    state = rng.choices(states, weights)[0]
    impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
    group = rng.choice(groups)
    assigned = "" if state == "1" and rng.random() < 0.5 else rng.choice(people)["sys_id"]
    caller = rng.choice(people)
    mods = rng.randint(0, 12)
    done = state in ("6", "7", "8")
    return {
        "sys_id": stable_hex("incident", rng.random()),
        "number": "",
        "short_description": f"{rng.choice(_THINGS)} {rng.choice(_PROBLEMS)}",
        "description": "",
        "state": state,
        # ServiceNow's default priority matrix: impact + urgency - 1.
        "priority": str(impact + urgency - 1),
        "impact": str(impact),
        "urgency": str(urgency),
        "category": rng.choice(CATEGORIES)[0],
        "active": "false" if done else "true",
        "assignment_group": group["sys_id"],
        "assigned_to": assigned,
        "caller_id": caller["sys_id"],
        "opened_at": snow_time(created),
        "resolved_at": snow_time(updated) if state in ("6", "7") else "",
        "closed_at": snow_time(updated) if state == "7" else "",
    } | _system(created, updated, by=caller["user_name"], mods=mods)
