"""Conversations, messages and per-turn results: protocol (``store``) and SQL (``sql``)."""
