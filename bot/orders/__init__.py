"""The order backend: protocol (``backend``) and the embedded SQL implementation (``sql``)."""
