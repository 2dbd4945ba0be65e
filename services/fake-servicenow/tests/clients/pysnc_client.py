"""Run by test_fake_servicenow_clients.py in an isolated environment with PyPI's `pysnc`
(ServiceNow's GlideRecord client over the Table API): print what it read as one JSON object.

    uv run --isolated --no-project --with pysnc==... python pysnc_client.py \
        URL USER PASSWORD SINCE CA_FILE

pysnc only speaks https://, so the emulator runs with --tls and CA_FILE is its authority.
"""

from __future__ import annotations

import json
import sys

from pysnc import ServiceNowClient


def main() -> None:
    url, user, password, since, ca_file = sys.argv[1:6]
    client = ServiceNowClient(url, (user, password), verify=ca_file)

    groups = client.GlideRecord("sys_user_group")
    groups.order_by("name")
    groups.query()
    group_rows = [(g.get_value("sys_id"), g.get_value("name")) for g in groups]

    incidents = client.GlideRecord("incident", batch_size=40)
    incidents.add_query("sys_updated_on", ">=", since)
    incidents.add_query("state", "IN", "1,2,3")
    incidents.order_by("number")
    incidents.query()
    total = incidents.get_row_count()
    rows = [
        {
            "sys_id": record.get_value("sys_id"),
            "number": record.get_value("number"),
            "state": record.get_value("state"),
            "state_label": record.get_display_value("state"),
            "group": record.get_value("assignment_group"),
            "group_name": record.get_display_value("assignment_group"),
            "updated": record.get_value("sys_updated_on"),
        }
        for record in incidents
    ]

    one = client.GlideRecord("incident")
    found = one.get(rows[0]["sys_id"])
    print(  # noqa: T201 - the test reads stdout
        json.dumps(
            {
                "groups": group_rows,
                "total": total,
                "incidents": rows,
                "get": {"found": found, "number": one.get_value("number")},
            }
        )
    )


if __name__ == "__main__":
    main()
