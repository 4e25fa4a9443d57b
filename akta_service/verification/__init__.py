"""Verification of a report against Dukcapil: the adapter, the sandbox registry, the checks."""
