"""Names of the history workloads (bench/history.py) that the report
(bench/report.py) prints: apart, so that neither module imports the other
at import time."""

from __future__ import annotations

# The tables whose growth the storage figure measures.
TABLES = (
    "project_files",
    "file_versions",
    "file_contents",
    "checkpoints",
    "agent_state_versions",
    "agent_states",
)

# The calls the write and read goals time, as the tables label them.
WRITES: dict[str, str] = {
    "put_d": "(d) repositories, files.put",
    "put_h": "(h) hand-written, with history",
    "put_h_flat": "(h) hand-written, files as before history",
    "get_binary_d": "(d) repositories, files.get",
    "get_binary_a": "(a) raw asyncpg, project_files ⋈ file_contents",
}

# The kinds of content the storage figure is measured with.
STORAGE_KINDS: dict[str, str] = {
    "text": "source-like text",
    "binary": "random binary",
}
