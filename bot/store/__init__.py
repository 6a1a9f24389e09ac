"""Storage: SQLite (one process) or PostgreSQL (several replicas); the only package that writes SQL."""

from bot.store.database import open_database
from bot.store.incidents import IncidentStore, NotFoundError

__all__ = ["IncidentStore", "NotFoundError", "open_database"]
