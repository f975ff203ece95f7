"""A pytest plugin: every collected test's fixtures must resolve, whether or
not the run selects the test. pytest reports a missing fixture only when the
test is set up, so a soak test that the default run deselects (`-m "not
soak"`) could lose its fixture or parametrisation and nothing would notice
until the long runs. This check runs before the marker deselection and turns
such a test into a usage error of the whole run."""

from __future__ import annotations

import pytest


def unresolved(item: pytest.Item) -> list[str]:
    """The fixture names `item` asks for that neither a fixture nor its
    parametrisation provides."""
    # pytest's resolved closure is internal API (FuncFixtureInfo); it is the
    # same data pytest's own setup uses, so the two cannot disagree.
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    callspec = getattr(item, "callspec", None)
    params = set(callspec.params) if callspec is not None else set()
    return [
        name
        for name in getattr(item, "fixturenames", [])
        if name not in info.name2fixturedefs
        and name not in params
        and name != "request"
    ]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    broken = {item.nodeid: names for item in items if (names := unresolved(item))}
    if broken:
        lines = "\n".join(
            f"  {nodeid}: fixture {', '.join(map(repr, names))} not found"
            for nodeid, names in sorted(broken.items())
        )
        raise pytest.UsageError(
            "tests whose fixtures do not resolve (checked for deselected tests "
            f"too, so the soak suite cannot rot unseen):\n{lines}"
        )
