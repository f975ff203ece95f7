"""The JSON text of an agent state, written so that jsonb gives back the same
Python values, and as long as jsonb will print it.

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
from typing import Any

from repositories import validation
from repositories.errors import InvalidInput

# A float Python writes with an exponent: "1e+16", "1.5e-07".
_EXPONENT = re.compile(r"[0-9]e[-+][0-9]")
# The stand-in of the n-th such float in json.dumps's output.
_STAND_IN = re.compile(r'"\\u0000([0-9]+)\\u0000"')


def dumps(state: dict[str, Any]) -> str:
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
