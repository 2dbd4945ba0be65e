"""fake-jira: an emulator of the Jira Cloud REST API v3 subset that itsm-sync uses."""
