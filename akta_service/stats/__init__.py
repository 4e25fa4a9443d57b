"""The dashboard for the head of the office: adoption, timeliness, speed, backlog."""
