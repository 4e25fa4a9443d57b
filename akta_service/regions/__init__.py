"""Kabupaten/kota served, their kecamatan, offices and signing officers."""
