"""Deterministic test data: file contents, agent states, file trees."""

from __future__ import annotations

import functools
import random
from typing import Any

_WORDS = [
    "def",
    "return",
    "self",
    "value",
    "async",
    "await",
    "import",
    "from",
    "class",
    "yield",
    "result",
    "path",
    "content",
    "project",
    "file",
    "state",
    "version",
    "update",
    "select",
    "insert",
    "commit",
    "begin",
    "for",
    "while",
    "if",
    "else",
    "elif",
    "try",
    "except",
    "finally",
    "with",
    "lambda",
    "None",
    "True",
    "False",
]


@functools.cache
def _corpus() -> str:
    """~256 KiB of code-like ASCII text to cut file contents from."""
    rng = random.Random(20260101)
    lines: list[str] = []
    size = 0
    while size < 256 * 1024:
        indent = "    " * rng.randrange(4)
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(3, 12)))
        line = f"{indent}{words}\n"
        lines.append(line)
        size += len(line)
    return "".join(lines)


def content(size: int, tag: str) -> str:
    """ASCII text of exactly `size` bytes, unique per `tag`."""
    corpus = _corpus()
    header = f"# {tag}\n"
    body_size = max(size - len(header), 0)
    start = hash_offset(tag) % (len(corpus) - body_size - 1)
    return (header + corpus[start : start + body_size])[:size]


def hash_offset(tag: str) -> int:
    # Python's str hash is salted per process; this one is stable.
    value = 0
    for char in tag:
        value = (value * 131 + ord(char)) % 1_000_003
    return value


def agent_state(step: int, target_bytes: int) -> dict[str, Any]:
    """A JSON object of about `target_bytes` serialised, shaped like an
    agent's working memory (messages, plan, open files)."""
    corpus = _corpus()
    messages: list[dict[str, Any]] = []
    size = 0
    index = 0
    while size < target_bytes - 400:
        text = corpus[index * 97 : index * 97 + 180].replace("\n", " ")
        message = {"role": "user" if index % 2 else "assistant", "content": text}
        messages.append(message)
        size += len(text) + 40
        index += 1
    return {
        "step": step,
        "plan": [
            {"id": i, "done": i < step % 5, "title": f"task {i}"} for i in range(5)
        ],
        "open_files": [f"src/module_{i}.py" for i in range(8)],
        "messages": messages,
        "settings": {"model": "agent-1", "temperature": 0.2, "max_tokens": 4096},
    }


def list_paths(count: int) -> list[str]:
    """`count` paths in byte-wise (PostgreSQL "C" collation) order."""
    return [f"src/pkg{i // 1000:03d}/module_{i % 1000:03d}.py" for i in range(count)]


def sync_tree(count: int, avg_bytes: int) -> dict[str, str]:
    """`count` files whose sizes spread from half to one and a half times
    `avg_bytes` (mean `avg_bytes`)."""
    rng = random.Random(count)
    tree: dict[str, str] = {}
    for i in range(count):
        size = rng.randint(avg_bytes // 2, avg_bytes * 3 // 2)
        path = f"app/dir{i % 50:02d}/file_{i:05d}.py"
        tree[path] = content(size, path)
    return tree


def changed_tree(tree: dict[str, str], fraction: float) -> dict[str, str]:
    """The same tree with every 1/fraction-th file edited."""
    step = max(round(1 / fraction), 1)
    return {
        path: text + "# edited\n" if i % step == 0 else text
        for i, (path, text) in enumerate(tree.items())
    }


def payload_bytes(tree: dict[str, str]) -> int:
    return sum(len(text.encode("utf-8")) for text in tree.values())
