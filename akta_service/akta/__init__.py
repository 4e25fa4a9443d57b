"""The akta: registration numbers, the Kutipan Akta Kelahiran PDF, its signature, issuing,
corrections by the pejabat, the public check by QR and `akta akta verify`."""
