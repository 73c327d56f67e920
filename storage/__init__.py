"""Persistence: SQLAlchemy models, Alembic migrations, and repositories named by intent."""
