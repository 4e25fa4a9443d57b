"""Birth reports: the record, its documents and verification checks, and submitting one."""
