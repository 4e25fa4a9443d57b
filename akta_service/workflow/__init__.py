"""The declarative birth-registration workflow: loading, guards, effects, firing triggers."""
