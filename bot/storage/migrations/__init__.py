"""Alembic environment of xiaoer's relational schema (``xiaoer db upgrade``)."""
