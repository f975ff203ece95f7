"""The JSON text of an agent state, written so that jsonb gives back the same
Python values.

jsonb keeps numbers as numeric and prints a float such as 1e23 as
100000000000000000000000, which reads back as an int. A float that Python
writes with an exponent (abs >= 1e16) is therefore written in positional form
with a ".0", which numeric keeps and which reads back as the same float.
"""

from __future__ import annotations

import json
from typing import Any

from repositories.errors import InvalidInput


def dumps(state: dict[str, Any]) -> str:
    """The JSON text of a state that validation.state accepted."""
    try:
        text = _dumps(state)
        # Python writes a float >= 1e16 as "1e+16": only then is a second,
        # slower pass needed (a string holding "e+" costs it too, harmlessly).
        if "e+" not in text:
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

    def stand_in(node: Any) -> Any:
        if isinstance(node, float) and _needs_positional(node):
            texts.append(f"{node:.1f}")
            return f"\x00{len(texts) - 1}\x00"
        if isinstance(node, dict):
            return {key: stand_in(child) for key, child in node.items()}
        if isinstance(node, list):
            return [stand_in(child) for child in node]
        return node

    text = _dumps(stand_in(state))
    for index, positional in enumerate(texts):
        text = text.replace(f'"\\u0000{index}\\u0000"', positional, 1)
    return text


def _needs_positional(number: float) -> bool:
    # repr switches to an exponent from 1e16 up; below 1, jsonb's positional
    # output still reads back as a float.
    return "e" in repr(number) and abs(number) >= 1
