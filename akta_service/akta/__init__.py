"""The akta: registration numbers, the Kutipan Akta Kelahiran PDF, its signature and issuing."""
