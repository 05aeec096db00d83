"""Shared messaging of every domain: inbound messages, the outbox, whom to write to, chat features."""
