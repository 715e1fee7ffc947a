"""Relational storage: one SQLAlchemy engine and declarative base shared by every store."""
