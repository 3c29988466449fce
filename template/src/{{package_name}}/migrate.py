"""Apply Alembic migrations from code (``<package> migrate``, ``dev``, tests)."""

from alembic import command
from alembic.config import Config

PACKAGE = __name__.rpartition(".")[0]


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"{PACKAGE}:migrations")
    # Passed as an attribute, not an ini option: URLs may contain '%'.
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(database_url: str) -> None:
    """Bring the database to the latest revision (runs its own event loop)."""
    command.upgrade(alembic_config(database_url), "head")
