"""Alembic migrations of itsm-sync's database."""
