"""Run by test_fake_jira_clients.py in an isolated environment with PyPI's `jira` package:
read what the fidelity test checks and print it as one JSON object.

    uv run --isolated --no-project --with jira==... python jira_client.py URL EMAIL TOKEN JQL
"""

from __future__ import annotations

import json
import sys

from jira import JIRA


def main() -> None:
    url, email, token, jql = sys.argv[1:5]
    client = JIRA(server=url, basic_auth=(email, token), get_server_info=True)
    info = client.server_info()
    me = client.myself()
    projects = client.projects()
    fields = client.fields()
    issues = client.search_issues(jql, maxResults=False, fields="summary,updated,description")
    first = client.issue(issues[0].key)
    print(  # noqa: T201 - the test reads stdout
        json.dumps(
            {
                "deployment": info["deploymentType"],
                "cloud": client._is_cloud,
                "myself": me["emailAddress"],
                "projects": [p.key for p in projects],
                "project_names": [p.name for p in projects],
                "fields": sorted(f["id"] for f in fields),
                "total": issues.total,
                "keys": [issue.key for issue in issues],
                "issue": {
                    "key": first.key,
                    "summary": first.fields.summary,
                    "description": first.fields.description,
                    "status": first.fields.status.name,
                    "comments": [c.body for c in first.fields.comment.comments],
                },
            }
        )
    )


if __name__ == "__main__":
    main()
