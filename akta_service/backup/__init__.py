"""Backup and restore: one consistent, encrypted copy of the database and its files."""
