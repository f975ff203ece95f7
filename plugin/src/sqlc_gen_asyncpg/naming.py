"""Python names from SQL names, after sqlc's Go naming.

Any character that is not a letter or digit separates words (`"x-venues"`,
`"2fa codes"`, `created_at`); words are joined in PascalCase for classes and
snake_case for everything else. A class name that would start with a digit
gets sqlc's `_` prefix; a snake name gets `n_` (a leading `_` would make a
pydantic field private). An enum value with no letter or digit is named by
its position, `VALUE_<n>`, as sqlc names it. Names Python reserves, and
names the generated code uses as types, get a trailing `_`. Two SQL names
that end up as one Python name are an error (see `Namespace`), never a
silent rename.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_identifier(name: str) -> bool:
    """An ASCII Python identifier (for option values such as module paths)."""
    return bool(_IDENTIFIER.match(name))


def _words(name: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", name))


def snake(name: str) -> str:
    """GetAuthorByID -> get_author_by_id; "2fa code" -> n_2fa_code; "" -> ""."""
    parts = [_CAMEL_BOUNDARY.sub("_", word).lower() for word in _words(name)]
    joined = "_".join(parts)
    return f"n_{joined}" if joined[:1].isdigit() else joined


def pascal(name: str) -> str:
    """get_author -> GetAuthor; GetAuthorByID stays; "x-venue" -> XVenue."""
    joined = "".join(word[:1].upper() + word[1:] for word in _words(name))
    return f"_{joined}" if joined[:1].isdigit() else joined


def singular(word: str) -> str:
    """Table name to model name stem: project_files -> project_file."""
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "uses")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("s") and len(word) > 1:
        return word[:-1]
    return word


def enum_member(value: str, position: int) -> str:
    """'in-progress' -> IN_PROGRESS; a leading digit gets a V_ prefix; ''
    -> EMPTY. A value with no letter or digit ('#', '*') is named by its
    position among the enum's values, from 0, as sqlc does: VALUE_10."""
    if not value:
        return "EMPTY"
    member = "_".join(_words(value)).upper() or f"VALUE_{position}"
    if member[0].isdigit():
        member = f"V_{member}"
    return safe(member)


def safe(name: str) -> str:
    """Keywords and soft keywords get a trailing `_`."""
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name}_"
    return name


# Lower-case names the generated code uses in annotations: a field or
# NamedTuple item of that name would hide the type from the fields after it.
TYPE_NAMES = frozenset(
    {
        "bool",
        "bytes",
        "date",
        "datetime",
        "float",
        "int",
        "list",
        "str",
        "time",
        "timedelta",
        "tuple",
    }
)
# Module-level names of a generated query module besides its own: a function
# of one of these names would hide it (or a builtin) for the whole module.
MODULE_NAMES = frozenset(dir(builtins)) | TYPE_NAMES | {"annotations"}

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


def field_name(sql_name: str, clashes: frozenset[str]) -> str:
    """The attribute of a model (clashes=MODEL_ATTRIBUTES), NamedTuple item
    (TUPLE_ATTRIBUTES) or keyword argument (empty) for an SQL name; "" when
    the name has no letter or digit."""
    name = safe(snake(sql_name))
    if not name:
        return ""
    protected = clashes is MODEL_ATTRIBUTES and name.startswith(PYDANTIC_PROTECTED)
    if clashes and name in TYPE_NAMES:
        return f"{name}_"
    return f"{name}_" if name in clashes or protected else name


def function_name(query_name: str) -> str:
    name = safe(snake(query_name))
    return f"{name}_" if name in MODULE_NAMES else name


def dedupe(names: list[str]) -> list[str]:
    """Make names unique in order: id, id -> id, id_2 (sqlc's Go convention
    for one SQL name that appears twice, e.g. `SELECT a.id, b.id`)."""
    seen: set[str] = set()
    result: list[str] = []
    for name in names:
        candidate, count = name, 1
        while candidate in seen:
            count += 1
            candidate = f"{name}_{count}"
        seen.add(candidate)
        result.append(candidate)
    return result


class Namespace:
    """Python names taken in one scope, each with the SQL it came from, so
    that a second SQL name mapping onto one is reported with both."""

    def __init__(self, scope: str) -> None:
        self._scope = scope
        self._owners: dict[str, str] = {}

    def claim(self, name: str, origin: str) -> str | None:
        """None when free (and now taken), else the problem to report."""
        if not name:
            return f"{self._scope}: {origin} has no letter or digit to make a Python name from"
        owner = self._owners.setdefault(name, origin)
        if owner == origin:
            return None
        return (
            f"{self._scope}: {owner} and {origin} both become the Python name "
            f"{name!r}; rename one of them (or alias it with AS)"
        )
