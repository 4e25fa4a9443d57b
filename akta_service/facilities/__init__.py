"""Health facilities (hospitals, puskesmas, clinics, midwives) and their API credentials."""
