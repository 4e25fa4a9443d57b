"""What every feature shares: database, the one commit point, jobs, configuration, errors,
audit journal, sessions, limits, storage."""
