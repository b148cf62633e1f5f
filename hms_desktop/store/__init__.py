"""Persistence: SQLAlchemy tables and sessions, migrations, the slot-hold lock store, events."""
