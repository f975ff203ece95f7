"""ETags from versions, and the conditional headers (RFC 9110, 13.1).

A file's or an agent state's ETag is its version: `"<version>"`. The layer
never hands out a version twice for a path (or a project's agent state),
even after a delete and re-create, so a client's ETag from before a delete
cannot match the row made after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

# An entity-tag: optionally W/, then a quoted string without quotes.
_ENTITY_TAG = re.compile(r'(W/)?("[^"]*")')


class Versioned(Protocol):
    """What an ETag is made of: FileEntry, ProjectFile, AgentState."""

    @property
    def version(self) -> int: ...


def etag(row: Versioned) -> str:
    """The strong ETag of a file or agent state as it is now."""
    return f'"{row.version}"'


@dataclass(frozen=True)
class Condition:
    """A parsed If-Match or If-None-Match: `*`, or a list of entity-tags."""

    any: bool
    strong: frozenset[str]  # tags without W/
    weak: frozenset[str]  # every tag, W/ removed

    @classmethod
    def parse(cls, header: str | None) -> Condition | None:
        """None when the header is absent. Of any other value, the
        entity-tags it lists count; the rest is ignored (a header without
        one matches nothing)."""
        if header is None:
            return None
        if header.strip() == "*":
            return cls(True, frozenset(), frozenset())
        strong: set[str] = set()
        weak: set[str] = set()
        for match in _ENTITY_TAG.finditer(header):
            is_weak, tag = match.groups()
            weak.add(tag)
            if not is_weak:
                strong.add(tag)
        return cls(False, frozenset(strong), frozenset(weak))

    def matches_strongly(self, current: str | None) -> bool:
        """If-Match: `*` matches any current row, a tag only a strong one."""
        if current is None:
            return False
        return self.any or current in self.strong

    def matches_weakly(self, current: str | None) -> bool:
        """If-None-Match: `*` matches any current row, a tag W/ or not."""
        if current is None:
            return False
        return self.any or current in self.weak


@dataclass(frozen=True)
class Preconditions:
    """The request's If-Match and If-None-Match."""

    if_match: Condition | None
    if_none_match: Condition | None

    @classmethod
    def of(cls, if_match: str | None, if_none_match: str | None) -> Preconditions:
        return cls(Condition.parse(if_match), Condition.parse(if_none_match))

    @property
    def given(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None

    def hold_for(self, current: str | None) -> bool:
        """Whether a write may go on, the current ETag being `current` (None:
        no row): RFC 9110's order, If-Match first."""
        if self.if_match is not None and not self.if_match.matches_strongly(current):
            return False
        return not (
            self.if_none_match is not None
            and self.if_none_match.matches_weakly(current)
        )
