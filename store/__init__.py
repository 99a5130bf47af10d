"""SQLAlchemy models and queries: the system of record (issue 3)."""
