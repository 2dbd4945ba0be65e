"""itsm-sync's own database: tables, engine and the queries the service runs."""
