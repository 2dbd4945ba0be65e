"""itsm-sync: the reference ITSM sync service (Jira, ServiceNow) behind Rita's webhooks."""
