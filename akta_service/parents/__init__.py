"""The parents' pages: report a birth step by step from a phone (`form_views`), then follow
it with code + PIN, correct it, cancel it and download the akta (`status_views`)."""
