"""Run by test_fake_jira_clients.py in an isolated environment with PyPI's
`atlassian-python-api` package: read what the fidelity test checks and print it as JSON.

    uv run --isolated --no-project --with atlassian-python-api==... python atlassian_client.py \
        URL EMAIL TOKEN JQL
"""

from __future__ import annotations

import json
import sys

from atlassian import Jira


def main() -> None:
    url, email, token, jql = sys.argv[1:5]
    jira = Jira(url=url, username=email, password=token, cloud=True)
    info = jira.get_server_info()
    me = jira.myself()
    projects = jira.projects()
    fields = jira.get_all_fields()
    # Cloud mode pages the enhanced search by token; server mode pages /search by offset.
    enhanced = jira.enhanced_jql_get_list_of_tickets(jql, fields="summary", limit=None)
    server = Jira(url=url, username=email, password=token, cloud=False)
    keys: list[str] = []
    total = None
    start = 0
    while True:
        page = server.jql(jql, fields="summary", start=start, limit=25)
        total = page["total"]
        keys += [issue["key"] for issue in page["issues"]]
        start += len(page["issues"])
        if not page["issues"] or start >= total:
            break
    issue = jira.issue(keys[0])
    print(  # noqa: T201 - the test reads stdout
        json.dumps(
            {
                "deployment": info["deploymentType"],
                "myself": me["emailAddress"],
                "projects": [p["key"] for p in projects],
                "fields": sorted(f["id"] for f in fields),
                "total": total,
                "keys": keys,
                "enhanced_keys": [issue["key"] for issue in enhanced],
                "issue": {
                    "key": issue["key"],
                    "summary": issue["fields"]["summary"],
                    "description": issue["fields"]["description"],
                    "comments": [c["body"] for c in issue["fields"]["comment"]["comments"]],
                },
            }
        )
    )


if __name__ == "__main__":
    main()
