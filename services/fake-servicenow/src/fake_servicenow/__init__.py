"""fake-servicenow: an emulator of the ServiceNow Table API subset itsm-sync uses."""
