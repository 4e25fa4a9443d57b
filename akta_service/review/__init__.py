"""The office's work queue and the review of one report."""
