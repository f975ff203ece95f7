"""uow.agent_states: one JSON state per project, with compare-and-swap saves.

The JSON text of a state is written so that jsonb gives back the same Python
values, and as long as jsonb will print it.

jsonb keeps numbers as numeric and prints them without an exponent: 1e23 as
100000000000000000000000, which reads back as an int, and 1e-300 as 0.000…1,
302 characters. A float that Python writes with an exponent is therefore
written out in full here too: from 1e16 up with a ".0", which numeric keeps
and which reads back as the same float; below 1e-4 as the exact decimal
digits of its repr. So the text the API measures (validation.state_text) is
what jsonb prints but for the space jsonb puts after each ':' and ',', and
the schema's bound on the stored text (agent_states_state_size) follows
from the API's.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

from repositories import validation
from repositories._generated import Executor
from repositories._generated import agent_states as queries
from repositories._generated import models as rows
from repositories._guard import Guard, one_call_at_a_time
from repositories._outcomes import unmatched_write, written_or_current
from repositories._project_lock import ProjectLock
from repositories._translate import translated
from repositories.errors import InvalidInput, NotFound
from repositories.models import AgentState, RowModels, from_row
from repositories.projects import ProjectsRepository

RESOURCE = "agent state"
PROJECT = "project"
# state: any JSON value in the row, a JSON object in the contract (the
# schema's CHECK makes it one), so its type is not compared.
ROW_MODELS = RowModels(
    picked_from=(
        (AgentState, rows.AgentState, frozenset({"state"})),
        (AgentState, queries.UpsertAgentStateRow, frozenset({"state"})),
        (AgentState, queries.CreateAgentStateRow, frozenset({"state"})),
        (AgentState, queries.SwapAgentStateRow, frozenset({"state"})),
    )
)
# What a save's statement returns: the state as stored, whichever statement.
_Saved = (
    queries.UpsertAgentStateRow
    | queries.CreateAgentStateRow
    | queries.SwapAgentStateRow
)


def to_agent_state(row: rows.AgentState | _Saved) -> AgentState:
    return from_row(AgentState, row)


class AgentStatesRepository:
    """`uow.agent_states`: one JSON state per project, with compare-and-swap
    saves."""

    def __init__(
        self, conn: Executor, actor: UUID, projects: ProjectsRepository, guard: Guard
    ) -> None:
        self._conn = conn
        self._actor = actor
        self._projects = projects
        self._guard = guard
        self._lock = ProjectLock(conn, actor, guard)

    @one_call_at_a_time
    async def get(self, project_id: UUID) -> AgentState:
        """The project's agent state."""
        project_id = validation.identifier(project_id, "project_id")
        with translated(RESOURCE):
            row = await queries.get_agent_state(
                self._conn, project_id=project_id, owner_id=self._actor
            )
        if row is None:
            raise NotFound(RESOURCE)
        return to_agent_state(row)

    @one_call_at_a_time
    async def save(
        self,
        project_id: UUID,
        state: dict[str, Any],
        *,
        expected_version: int | None = None,
    ) -> AgentState:
        """Save the project's agent state. `expected_version` None: the last
        writer wins; 0: only if there is none yet; n: only if its version is
        n (compare-and-swap)."""
        project_id = validation.identifier(project_id, "project_id")
        checked = validation.state(state)
        text = validation.state_text(_state_json(checked))
        expected = validation.expected_version(expected_version)
        await self._lock.hold(project_id, whole_project=False)
        with translated(RESOURCE):
            row, current = await written_or_current(
                partial(self._write, project_id, text, expected),
                partial(self._current_version, project_id),
                lambda found: expected in (None, found),
            )
        if row is not None:
            return row
        # Nothing was written: another version is current, or none is.
        raise await unmatched_write(
            RESOURCE,
            expected=expected,
            found=current,
            parent=PROJECT,
            parent_exists=partial(self._projects.exists, project_id),
        )

    async def _write(
        self, project_id: UUID, text: str, expected: int | None
    ) -> AgentState | None:
        """The statement of a save; None when it matched no row."""
        row: _Saved | None
        if expected is None:
            row = await queries.upsert_agent_state(
                self._conn, project_id=project_id, owner_id=self._actor, state=text
            )
        elif expected == 0:
            row = await queries.create_agent_state(
                self._conn, project_id=project_id, owner_id=self._actor, state=text
            )
        else:
            row = await queries.swap_agent_state(
                self._conn,
                state=text,
                project_id=project_id,
                owner_id=self._actor,
                expected_version=expected,
            )
        return None if row is None else to_agent_state(row)

    async def _current_version(self, project_id: UUID) -> int | None:
        return await queries.get_agent_state_version(
            self._conn, project_id=project_id, owner_id=self._actor
        )

    @one_call_at_a_time
    async def delete(
        self, project_id: UUID, *, expected_version: int | None = None
    ) -> None:
        """Delete the project's agent state; with `expected_version` n, only
        if its version is n."""
        project_id = validation.identifier(project_id, "project_id")
        expected = validation.expected_version(expected_version)
        await self._lock.hold(project_id, whole_project=True, missing=RESOURCE)
        with translated(RESOURCE):
            deleted = await queries.delete_agent_state(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                expected_version=expected,
            )
            if deleted is not None:
                return
            found = await self._current_version(project_id)
        raise await unmatched_write(RESOURCE, expected=expected, found=found)


# The state's JSON text, as jsonb prints it (the module's docstring says why).

# A float Python writes with an exponent: "1e+16", "1.5e-07".
_EXPONENT = re.compile(r"[0-9]e[-+][0-9]")
# The stand-in of the n-th such float in json.dumps's output.
_STAND_IN = re.compile(r'"\\u0000([0-9]+)\\u0000"')


def _state_json(state: dict[str, Any]) -> str:
    """The JSON text of a state that validation.state accepted."""
    try:
        text = _dumps(state)
        # Only a float written with an exponent needs a second, slower pass
        # (a string that looks like one costs it too, harmlessly).
        if ("e+" not in text and "e-" not in text) or not _EXPONENT.search(text):
            return text
        return _dumps_positional(state)
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidInput("state", f"is not valid JSON: {exc}") from None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _dumps_positional(state: dict[str, Any]) -> str:
    # Stand-ins that no accepted string can contain (NUL is refused), swapped
    # for the positional text after json.dumps has done the rest.
    texts: list[str] = []
    written = 0

    def stand_in(node: Any) -> Any:
        nonlocal written
        if isinstance(node, float) and _needs_positional(node):
            texts.append(_positional(node))
            # A float of 7 characters can take 326 written out: stop as
            # soon as the numbers alone are over the limit.
            written += len(texts[-1])
            if written > validation.STATE_MAX_BYTES:
                raise validation.state_too_large()
            return f"\x00{len(texts) - 1}\x00"
        if isinstance(node, dict):
            return {key: stand_in(child) for key, child in node.items()}
        if isinstance(node, list):
            return [stand_in(child) for child in node]
        return node

    text = _dumps(stand_in(state))
    return _STAND_IN.sub(lambda found: texts[int(found.group(1))], text)


def _needs_positional(number: float) -> bool:
    # repr switches to an exponent from 1e16 up and below 1e-4.
    return "e" in repr(number)


def _positional(number: float) -> str:
    if abs(number) >= 1:
        return f"{number:.1f}"
    # The digits of the shortest repr, as numeric keeps and prints them
    # (1.5e-07: 0.00000015); they read back as the same float.
    return format(Decimal(repr(number)), "f")
