"""Background work: verification, issuing, notifications, off the request path."""
