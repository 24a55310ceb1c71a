"""Database backends of the project (see `core.db.postgresql`)."""
