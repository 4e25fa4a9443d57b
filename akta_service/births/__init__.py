"""Birth reports: the record, its documents and verification checks, submitting one, and the
facilities' API."""
