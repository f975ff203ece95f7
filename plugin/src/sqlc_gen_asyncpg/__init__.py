"""sqlc process plugin: asyncpg-native async query functions and pydantic v2 models."""

__version__ = "0.1.0"
