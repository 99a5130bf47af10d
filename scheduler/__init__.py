"""Reminders, escalations and digests (issue 6)."""
