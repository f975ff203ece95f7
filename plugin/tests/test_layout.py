"""The layout is `ruff format`'s, at the version the plugin pins, whatever
the configuration around: a missing or other ruff is an error saying so."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from importlib import util
from pathlib import Path

import pytest

from sqlc_gen_asyncpg import source
from sqlc_gen_asyncpg.errors import GenerateError


@pytest.fixture
def fresh_lookup() -> Iterator[None]:
    source.ruff.cache_clear()
    yield
    source.ruff.cache_clear()


@pytest.mark.usefixtures("fresh_lookup")
def test_the_pinned_ruff_is_found() -> None:
    assert source._pinned() == "ruff==0.17.5"
    assert Path(source.ruff()[-1]).name.startswith("ruff")


@pytest.mark.usefixtures("fresh_lookup")
def test_no_ruff_is_an_error_saying_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    monkeypatch.setattr(util, "find_spec", lambda name: None)
    with pytest.raises(GenerateError, match=r"ruff not found.*ruff==0\.17\.5"):
        source.ruff()


@pytest.mark.usefixtures("fresh_lookup")
def test_another_ruff_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "_pinned", lambda: "ruff==0.0.1")
    with pytest.raises(
        GenerateError, match=r"reports ruff 0\.17\.5; the plugin needs ruff==0\.0\.1"
    ):
        source.ruff()


def test_the_projects_settings_do_not_change_the_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ruff.toml").write_text(
        'line-length = 20\n[format]\nquote-style = "single"\n'
    )
    monkeypatch.chdir(tmp_path)
    text = 'X = f(aaaa, bbbb, cccc, "d")\n'
    assert source.formatted("x.py", text) == text


def test_code_ruff_refuses_is_a_fault_of_the_plugin() -> None:
    with pytest.raises(GenerateError, match=r"x\.py: `ruff format` refused"):
        source.formatted("x.py", "def (:\n")


def test_a_block_placeholder_takes_its_indent_or_no_line() -> None:
    filled = source.fill(
        "exec",
        name="f",
        arguments="conn: Executor",
        arguments_of_call="F",
        doc="",
        returns="None",
    )
    assert filled == "async def f(conn: Executor) -> None:\n    await conn.execute(F)\n"
    documented = source.fill(
        "exec",
        name="f",
        arguments="",
        arguments_of_call="F",
        doc='"""A\n\nB\n"""',
        returns="None",
    )
    assert '    """A\n\n    B\n    """\n' in documented
