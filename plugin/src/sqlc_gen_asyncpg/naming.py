"""Python names from SQL names: snake_case functions, PascalCase classes."""

from __future__ import annotations

import keyword
import re

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def is_identifier(name: str) -> bool:
    return bool(_IDENTIFIER.match(name))


def snake(name: str) -> str:
    """GetAuthorByID -> get_author_by_id; already snake stays as is."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def pascal(name: str) -> str:
    """get_author -> GetAuthor; GetAuthor stays."""
    parts = [p for p in re.split(r"_+", name) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)


def safe(name: str) -> str:
    """A usable attribute/argument name: keywords and soft keywords get a `_`."""
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name}_"
    return name


# Public attributes of pydantic's BaseModel, which a model field must not
# shadow (mypy rejects it, pydantic warns), and of the tuple under a NamedTuple.
MODEL_ATTRIBUTES = frozenset(
    [
        "construct",
        "copy",
        "dict",
        "from_orm",
        "json",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "update_forward_refs",
        "validate",
        "model_computed_fields",
        "model_config",
        "model_construct",
        "model_copy",
        "model_dump",
        "model_dump_json",
        "model_extra",
        "model_fields",
        "model_fields_set",
        "model_json_schema",
        "model_parametrized_name",
        "model_post_init",
        "model_rebuild",
        "model_validate",
        "model_validate_json",
        "model_validate_strings",
    ]
)
PYDANTIC_PROTECTED = ("model_validate", "model_dump")
TUPLE_ATTRIBUTES = frozenset({"count", "index"})


def unshadowed(name: str, clashes: frozenset[str]) -> str:
    """`name`, or `name_` if it is in `clashes` (or, for MODEL_ATTRIBUTES, in
    one of pydantic's protected namespaces)."""
    protected = clashes is MODEL_ATTRIBUTES and name.startswith(PYDANTIC_PROTECTED)
    return f"{name}_" if name in clashes or protected else name


def singular(word: str) -> str:
    """Table name to model name stem: project_files -> project_file."""
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "uses")):
        return word[:-2]
    if word.endswith("ss") or word.endswith("us") or word.endswith("is"):
        return word
    if word.endswith("s") and len(word) > 1:
        return word[:-1]
    return word


def enum_member(value: str) -> str:
    """'in-progress' -> IN_PROGRESS; a leading digit gets a V_ prefix."""
    member = re.sub(r"[^0-9A-Za-z]+", "_", value).strip("_").upper()
    if not member:
        member = "EMPTY"
    if member[0].isdigit():
        member = f"V_{member}"
    return safe(member)


def dedupe(names: list[str]) -> list[str]:
    """Make names unique in order: id, id -> id, id_2 (sqlc's Go convention)."""
    seen: dict[str, int] = {}
    result: list[str] = []
    for name in names:
        count = seen.get(name, 0) + 1
        seen[name] = count
        candidate = name if count == 1 else f"{name}_{count}"
        while candidate in seen and candidate != name:
            count += 1
            candidate = f"{name}_{count}"
        seen.setdefault(candidate, 1)
        result.append(candidate)
    return result
