"""What the generator writes, decided before any code is rendered: a plan per
module. build_models.py and build_queries.py build these from sqlc's request;
render.py turns them into text. What follows from a plan is decided here, by
its methods, so that the renderer and the imports cannot disagree: the type a
row becomes, what a function returns when no row comes (Query.row_required)
and each module's imports."""

from __future__ import annotations

from dataclasses import dataclass

from sqlc_gen_asyncpg.pytypes import Import, PyType

# Commands whose function takes an iterable of <Name>Params.
BATCH = frozenset({":batchexec", ":batchone", ":batchmany", ":copyfrom"})
ROW_COMMANDS = frozenset({":one", ":many", ":batchone", ":batchmany"})
COMMANDS = frozenset(
    {":one", ":many", ":exec", ":execrows", ":execresult", *BATCH, *ROW_COMMANDS}
)


@dataclass(frozen=True)
class Field:
    """An attribute of a model; `embed` is set for sqlc.embed(table), whose
    value is that table's model, built from several row positions."""

    name: str
    type: PyType
    embed: Model | None = None


@dataclass(frozen=True)
class Model:
    name: str
    doc: str
    fields: tuple[Field, ...]

    @property
    def arbitrary(self) -> bool:
        """Holds a type pydantic has no schema for (see PyType.arbitrary)."""
        return any(f.type.arbitrary for f in self.fields)


@dataclass(frozen=True)
class Enum:
    name: str
    doc: str
    members: tuple[tuple[str, str], ...]  # (Python member, SQL value)


@dataclass(frozen=True)
class ModelsModule:
    enums: tuple[Enum, ...]
    models: tuple[Model, ...]
    unmodelled: tuple[str, ...]  # why each table without a model has none

    def imports(self, models_module: str) -> frozenset[Import]:
        names: set[Import] = {("__future__", "annotations")}
        if self.enums:
            names.add(("enum", "StrEnum"))
        if self.models:
            names |= {("pydantic", "BaseModel"), ("pydantic", "ConfigDict")}
        for model in self.models:
            for f in model.fields:
                names |= {i for i in f.type.imports if i[0] != models_module}
        return frozenset(names)


@dataclass(frozen=True)
class Param:
    name: str
    type: PyType
    optional: bool  # nullable: the keyword argument defaults to None


@dataclass(frozen=True)
class Adapter:
    """A module-level pydantic TypeAdapter converting one column's value
    (enums, overrides): the only values rows validate."""

    name: str
    type: PyType


@dataclass(frozen=True)
class ScalarResult:
    """A row becomes its one column's value, converted by `adapter` when
    asyncpg's value is not yet of the type (enums, overrides)."""

    type: PyType
    adapter: Adapter | None

    @property
    def annotation(self) -> str:
        return self.type.annotation


@dataclass(frozen=True)
class ModelResult:
    """A row becomes a model, built by `converter`: a table's model, or
    `<Query>Row` written beside the query (`defined_here`)."""

    model: Model
    converter: str  # module function (Record, model class) -> model
    defined_here: bool

    @property
    def annotation(self) -> str:
        return self.model.name


Result = ScalarResult | ModelResult


@dataclass(frozen=True)
class CopyTarget:
    schema: str
    table: str
    columns: tuple[str, ...]


def optional(annotation: str) -> str:
    """`annotation | None`, unless it takes None already."""
    if annotation == "None" or annotation.endswith("| None"):
        return annotation
    return f"{annotation} | None"


@dataclass(frozen=True)
class Query:
    """One query's function(s): `function`, and `<function>_iter` and
    `<function>_into` when asked for."""

    name: str
    cmd: str
    function: str
    constant: str
    sql: str
    doc: str  # "" when the query has no comment
    params: tuple[Param, ...]
    params_class: str  # "" unless the command takes an iterable of argument sets
    result: Result | None
    always_row: bool  # yields a row whatever the data (analysis.py)
    cursor_iterator: bool  # also write <function>_iter
    into: bool  # also write <function>_into, building the caller's model
    copy: CopyTarget | None

    @property
    def row_required(self) -> bool:
        """The no-row rule. A :one or :batchone whose statement yields a row
        whatever the data (`always_row`) returns its rows typed without
        None: :one raises NoRowReturned should the row ever be missing, and
        :batchone runs every argument set in one pipelined fetchmany. Any
        other :one or :batchone returns None for a missing row."""
        return self.cmd in {":one", ":batchone"} and self.always_row

    def row_type(self, *, into: bool = False) -> str:
        """The type one row becomes: the result's model (`ModelT`, the
        caller's model, for the `_into` function), its one column's type,
        or None for a statement that returns none."""
        if isinstance(self.result, ModelResult):
            return "ModelT" if into else self.result.model.name
        if isinstance(self.result, ScalarResult):
            return self.result.annotation
        return "None"

    def returns(self, *, into: bool = False, iterator: bool = False) -> str:
        """The return annotation of the function (`iterator`: of
        `<function>_iter`; `into`: of `<function>_into`)."""
        row = self.row_type(into=into)
        if iterator:
            return f"AsyncIterator[{row}]"
        match self.cmd:
            case ":one":
                return row if self.row_required else optional(row)
            case ":many":
                return f"list[{row}]"
            case ":batchone":
                return f"list[{row if self.row_required else optional(row)}]"
            case ":batchmany":
                return f"list[list[{row}]]"
            case ":execrows" | ":copyfrom":
                return "int"
            case ":execresult":
                return "str"
        return "None"  # :exec, :batchexec


@dataclass(frozen=True)
class Converter:
    """Record -> model without validating again what asyncpg decoded; written
    before the first query that uses it. The model is an argument, so every
    model with the same fields (in order, converted alike), an `_into`
    function's caller's model too, is built by one converter."""

    name: str
    model: Model
    first_user: str  # function name of the first query using it


@dataclass(frozen=True)
class QueryModule:
    filename: str
    module: str
    doc: str
    queries: tuple[Query, ...]
    converters: tuple[Converter, ...]
    adapters: tuple[Adapter, ...]

    def imports(self, package: str, models_module: str) -> frozenset[Import]:
        names: set[Import] = {
            ("__future__", "annotations"),
            ("typing", "Final"),
            (package, "Executor"),
        }
        for adapter in self.adapters:
            names |= adapter.type.imports | {("pydantic", "TypeAdapter")}
        if self.converters:
            names |= {
                ("asyncpg", "Record"),
                (package, "from_database"),
                (package, "ModelT"),
            }
        for converter in self.converters:
            for f in converter.model.fields:
                if f.embed is not None:
                    names.add((models_module, f.embed.name))
        for query in self.queries:
            names |= _query_imports(query, package, models_module)
        return frozenset(names)


def _query_imports(query: Query, package: str, models_module: str) -> set[Import]:
    names: set[Import] = set()
    for param in query.params:
        names |= param.type.imports
    if query.params_class:
        names |= {("typing", "NamedTuple"), ("collections.abc", "Iterable")}
    if query.cmd in {":execrows", ":copyfrom"}:
        names.add((package, "rows_affected"))
    if query.cmd == ":one" and query.row_required:
        names.add((package, "NoRowReturned"))
    if query.cursor_iterator:
        names.add(("collections.abc", "AsyncIterator"))
    if query.into:
        names |= {(package, "ModelT"), (package, "check_row_model")}
    result = query.result
    if isinstance(result, ScalarResult):
        names |= result.type.imports
    elif isinstance(result, ModelResult) and result.defined_here:
        names |= {("pydantic", "BaseModel"), ("pydantic", "ConfigDict")}
        for f in result.model.fields:
            names |= f.type.imports
    elif isinstance(result, ModelResult):
        names.add((models_module, result.model.name))
    return names
