"""Drafted replies waiting for (or decided by) a human agent."""
