"""Staff accounts of the civil-registry office."""
