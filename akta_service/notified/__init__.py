"""Births notified by a facility at the bedside, completed by the family through a link."""
