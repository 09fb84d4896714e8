"""Schema migrations, run programmatically (``conclave migrate``, embedded start, tests).

Several heads are allowed: domains developed side by side each add a revision on the same
parent, and the database is brought to all of them (``heads``) until a merge revision joins
them. The schema is current when the database's heads equal the scripts' heads.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "conclave:migrations")
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Blocking: alembic's env runs its own event loop, so async callers use a thread."""
    command.upgrade(alembic_config(database_url), revision)


def head_revisions(database_url: str) -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


async def current_revisions(engine: AsyncEngine) -> frozenset[str]:
    def read(connection: Connection) -> frozenset[str]:
        return frozenset(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        return await connection.run_sync(read)
