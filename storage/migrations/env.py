"""Alembic environment: Wirewatch always passes an open connection (see storage/db.py)."""

from __future__ import annotations

from alembic import context

from storage.models import Base, is_modelled

target_metadata = Base.metadata


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return is_modelled(name)


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `bot.py db upgrade`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    include_object=_include_object,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
