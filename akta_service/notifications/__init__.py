"""Telling people and systems what happened: e-mail and SMS to the informant, webhooks to
facilities. Written to an outbox in the same transaction, delivered after commit, retried."""
