"""Developer tooling: the embedded PostgreSQL server, database URLs, tool builds.

Used by noxfile.py (through ``python -m devtools.<tool>`` inside the session's
virtualenv) and by the test fixtures. Nothing here is imported by the
application packages.
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
