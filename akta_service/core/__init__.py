"""What every feature shares: database, configuration, errors, audit journal."""
