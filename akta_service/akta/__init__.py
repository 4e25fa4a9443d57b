"""The akta: registration numbers (and later the certificate itself)."""
