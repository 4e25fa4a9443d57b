"""Demo data for the embedded default (`make run`)."""
