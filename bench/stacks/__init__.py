"""The four stacks, each doing one request per call: acquire a connection,
begin, work, commit, release."""

from __future__ import annotations

from bench.stacks.base import STACKS, Stack, open_stack

__all__ = ["STACKS", "Stack", "open_stack"]
