"""Examples of the `repositories` API in use (examples/README.md)."""
