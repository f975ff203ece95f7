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


# Source-like text for the history workloads (bench/history.py): varied
# Python-shaped code, so content compresses about as real source does,
# unlike `content`, whose 35-word corpus compresses far better.
_STEMS = [
    "account",
    "address",
    "agent",
    "amount",
    "archive",
    "batch",
    "buffer",
    "cache",
    "channel",
    "chunk",
    "client",
    "column",
    "commit",
    "config",
    "context",
    "counter",
    "cursor",
    "date",
    "delta",
    "digest",
    "document",
    "entry",
    "error",
    "event",
    "field",
    "filter",
    "flag",
    "folder",
    "format",
    "frame",
    "group",
    "handler",
    "header",
    "index",
    "item",
    "job",
    "key",
    "label",
    "layer",
    "limit",
    "line",
    "link",
    "loader",
    "lock",
    "message",
    "meta",
    "mode",
    "model",
    "name",
    "node",
    "offset",
    "option",
    "order",
    "owner",
    "page",
    "parser",
    "path",
    "payload",
    "plan",
    "policy",
    "pool",
    "prefix",
    "project",
    "query",
    "queue",
    "range",
    "reader",
    "record",
    "region",
    "request",
    "result",
    "retry",
    "route",
    "row",
    "rule",
    "schema",
    "scope",
    "session",
    "shard",
    "signal",
    "size",
    "slot",
    "source",
    "span",
    "state",
    "status",
    "step",
    "store",
    "stream",
    "table",
    "target",
    "task",
    "tenant",
    "text",
    "token",
    "total",
    "trace",
    "tree",
    "user",
    "value",
    "version",
    "view",
    "window",
    "worker",
    "writer",
]
_VERBS = [
    "add",
    "apply",
    "build",
    "check",
    "clear",
    "close",
    "collect",
    "compute",
    "convert",
    "create",
    "decode",
    "delete",
    "encode",
    "fetch",
    "find",
    "flush",
    "format",
    "get",
    "handle",
    "load",
    "lookup",
    "merge",
    "move",
    "open",
    "parse",
    "prepare",
    "read",
    "refresh",
    "register",
    "release",
    "remove",
    "render",
    "reset",
    "resolve",
    "restore",
    "run",
    "save",
    "scan",
    "select",
    "send",
    "sort",
    "split",
    "start",
    "stop",
    "sync",
    "update",
    "validate",
    "write",
]
_TYPES = ("int", "str", "bytes", "float", "bool", "dict[str, Any]", "list[str]")
_MODULES = [
    "asyncio",
    "collections",
    "dataclasses",
    "datetime",
    "functools",
    "hashlib",
    "itertools",
    "json",
    "logging",
    "os",
    "pathlib",
    "re",
    "typing",
    "uuid",
]


def _name(rng: random.Random, words: int = 2) -> str:
    return "_".join(rng.choice(_STEMS) for _ in range(words))


def _expression(rng: random.Random) -> str:
    a, b = _name(rng, rng.randint(1, 2)), _name(rng, 1)
    shapes = (
        f"{a}.{rng.choice(_VERBS)}_{b}({_name(rng, 1)})",
        f"{a} + {rng.randint(1, 4096)}",
        f"len({a}) > {rng.randint(0, 64)}",
        f'f"{{{a}}}/{b}-{rng.randint(0, 999)}"',
        f"[{b} for {b} in {a} if {b}.{_name(rng, 1)}]",
        f"{a}.get({b!r}, {rng.choice(('None', '0', '[]', 'False'))})",
        f"self.{a}[{_name(rng, 1)}]",
        f"await self.{rng.choice(_VERBS)}_{a}({b}, timeout={rng.random() * 10:.1f})",
    )
    return rng.choice(shapes)


def _function(rng: random.Random, indent: str) -> list[str]:
    name = f"{rng.choice(_VERBS)}_{_name(rng, rng.randint(1, 2))}"
    params = ", ".join(
        f"{_name(rng, 1)}: {rng.choice(_TYPES)}" for _ in range(rng.randint(0, 3))
    )
    prefix = "async def" if rng.random() < 0.3 else "def"
    lines = [
        f"{indent}{prefix} {name}(self{', ' if params else ''}{params}) -> "
        f"{rng.choice(_TYPES)}:"
    ]
    body = indent + "    "
    if rng.random() < 0.6:
        lines.append(
            f'{body}"""{rng.choice(_VERBS).capitalize()} the {_name(rng, 1)} '
            f'of the {_name(rng, 1)} ({rng.randint(1, 99)} at most)."""'
        )
    for _ in range(rng.randint(2, 7)):
        roll = rng.random()
        if roll < 0.45:
            lines.append(f"{body}{_name(rng)} = {_expression(rng)}")
        elif roll < 0.65:
            lines.append(f"{body}if {_expression(rng)}:")
            lines.append(f"{body}    {_name(rng)} = {_expression(rng)}")
        elif roll < 0.8:
            lines.append(f"{body}for {_name(rng, 1)} in {_expression(rng)}:")
            lines.append(f"{body}    self.{_name(rng, 1)}.append({_expression(rng)})")
        elif roll < 0.9:
            lines.append(
                f"{body}# {' '.join(rng.choices(_STEMS + _VERBS, k=rng.randint(3, 9)))}"
            )
        else:
            lines.append(f"{body}log.debug({_name(rng, 1)!r}, {_expression(rng)})")
    lines.append(f"{body}return {_expression(rng)}")
    lines.append("")
    return lines


def source_file(size: int, seed: int) -> str:
    """Python-shaped text of exactly `size` bytes (ASCII), the same per seed
    and different from seed to seed: imports, classes, methods, comments,
    literals, names drawn from a few hundred words."""
    rng = random.Random(seed)
    lines = [
        f'"""{_name(rng, 3).replace("_", " ").capitalize()}: module {seed}."""',
        "",
    ]
    lines += [f"import {m}" for m in sorted(rng.sample(_MODULES, rng.randint(2, 5)))]
    lines.append("")
    total = sum(len(line) + 1 for line in lines)
    while total < size:
        cls = "".join(w.capitalize() for w in _name(rng, 2).split("_"))
        block = ["", f"class {cls}:"]
        for _ in range(rng.randint(1, 4)):
            block += _function(rng, "    ")
        lines += block
        total += sum(len(line) + 1 for line in block)
    return ("\n".join(lines) + "\n")[:size]


def edited_source(text: str, seed: int) -> str:
    """`text` edited as a commit edits a file: a few of its lines replaced
    by new ones; the same size give or take a few bytes."""
    rng = random.Random(seed)
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(lines))
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        lines[at] = f"{indent}{_name(rng)} = {_expression(rng)}"
    return "\n".join(lines)
