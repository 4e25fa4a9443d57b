"""The office's work queue, claims, and the review of one report with its documents."""
