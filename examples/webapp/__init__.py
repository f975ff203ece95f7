"""A reference web app over the `repositories` API: FastAPI routes for users,
projects, files and agent state (examples/README.md)."""
