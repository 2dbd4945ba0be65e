"""itsm-sync: the reference Jira sync service behind Rita's webhooks."""
