"""The parents' web form: report a birth step by step from a phone, follow it with code + PIN."""
