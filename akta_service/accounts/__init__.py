"""Staff accounts of the civil-registry office: sign-in, lock-out, and the admin pages."""
