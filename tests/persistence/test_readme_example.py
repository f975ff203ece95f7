"""README's repository example runs as written against a real database."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from devtools import PROJECT_ROOT


def readme_example() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    found = re.search(r"<!-- example -->\n```python\n(.*?)```", readme, re.S)
    assert found, "README.md lost its marked repository example"
    return found.group(1)


def test_readme_example_runs(app_url: str, auth_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", readme_example()],
        env={**os.environ, "APP_DATABASE_URL": app_url, "AUTH_DATABASE_URL": auth_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "created 1"
    assert lines[1] == "['README.md', 'src/main.py']"
    assert lines[2] == "agent state version 1"
