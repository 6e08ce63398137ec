"""Relational store: SQLAlchemy models, engine/session, Alembic migrations."""
