"""sqlc's queries -> a plan.QueryModule per query file, as sqlc's Go
generator has buildQueries: each query's function name, parameters
(build_params), result (build_result: a value, a table's model, or a
`<Query>Row` model) and, for :copyfrom, its target; the converters and
adapters a module's queries share are kept in its ModuleScope.

A query with a problem is reported (errors.Problems) and left out of its
module; the run goes on, so that one `sqlc generate` names every problem."""

from __future__ import annotations

import re
from functools import partial
from pathlib import PurePosixPath

from sqlc_gen_asyncpg import plan
from sqlc_gen_asyncpg.analysis import always_returns_row
from sqlc_gen_asyncpg.build_models import TableModels
from sqlc_gen_asyncpg.errors import GenerateError, Problems
from sqlc_gen_asyncpg.naming import (
    MODEL_ATTRIBUTES,
    TUPLE_ATTRIBUTES,
    Namespace,
    dedupe,
    field_name,
    function_name,
    pascal,
    snake,
)
from sqlc_gen_asyncpg.options import Options
from sqlc_gen_asyncpg.pytypes import TEXT_ONLY, PyType, TypeMapper, pg_name
from sqlc_gen_asyncpg.request import Column, GenerateRequest, Query
from sqlc_gen_asyncpg.sqlfiles import (
    comment_lines,
    docstring_text,
    query_file_header,
)

# Module names the generated package keeps for itself.
RESERVED_MODULES = frozenset({"models", "__init__"})
# Arguments every generated function may take besides the query's own.
RESERVED_ARGUMENTS = frozenset({"conn", "params", "prefetch", "timeout", "row_model"})
ITER_ANNOTATION = "@iter"
INTO_ANNOTATION = "@into"
ANNOTATIONS = frozenset({ITER_ANNOTATION, INTO_ANNOTATION})
INTO_COMMANDS = frozenset({":one", ":many"})


def build_queries(
    request: GenerateRequest,
    options: Options,
    types: TypeMapper,
    tables: TableModels,
    problems: Problems,
) -> list[plan.QueryModule]:
    """A module per query file, in file name order; each query in the
    order of its file. Query names are unique across files, and a file's
    module name must be free."""
    by_file: dict[str, list[Query]] = {}
    owners: dict[str, str] = {}
    for query in request.queries:
        other = owners.setdefault(query.name, query.filename)
        if other != query.filename:
            problems.add(
                f"{query.filename}: query {query.name!r} is also defined in "
                f"{other}; query names must be unique"
            )
            continue
        by_file.setdefault(query.filename, []).append(query)
    modules = Namespace("query files")
    planned = []
    for filename in sorted(by_file):
        module = snake(PurePosixPath(filename).stem)
        if module in RESERVED_MODULES:
            problems.add(
                f"{filename}: the file would become module {module!r}, which "
                "the generated package keeps for itself; rename the file"
            )
            continue
        problems.add(modules.claim(module, filename))
        header = query_file_header(request.query_paths, filename)
        scope = ModuleScope(filename, tables)
        queries = []
        for index, query in enumerate(by_file[filename]):
            comments = comment_lines(query.comments)
            if index == 0 and comments[: len(header)] == header:
                comments = comments[len(header) :]
            built = build_query(query, comments, scope, options, types, problems)
            if built is not None:
                queries.append(built)
        planned.append(scope.module(module, docstring_text(header), queries))
    return planned


def build_query(
    query: Query,
    comments: list[str],
    scope: ModuleScope,
    options: Options,
    types: TypeMapper,
    problems: Problems,
) -> plan.Query | None:
    """The plan of one query's function(s); None when it has a problem (each
    one reported). `comments`: the query's comment lines, without the file's
    header."""
    where = f"{query.filename}: query {query.name!r}"
    if query.cmd not in plan.COMMANDS:
        problems.add(
            f"{where}: command {query.cmd!r} is not supported; use one of "
            + ", ".join(sorted(plan.COMMANDS))
        )
        return None
    function = function_name(query.name)
    if not function:
        problems.add(f"{where}: the name is not a Python identifier")
        return None
    checkpoint = problems.checkpoint()
    iterator = query.cmd == ":many" and (
        options.cursor_iterators
        or any(line.strip() == ITER_ANNOTATION for line in comments)
    )
    into = any(line.strip() == INTO_ANNOTATION for line in comments)
    params_class = f"{pascal(query.name)}Params" if query.cmd in plan.BATCH else ""
    for name in (
        function,
        f"{function}_iter" if iterator else "",
        f"{function}_into" if into else "",
        params_class,
    ):
        if name:
            problems.add(scope.names.claim(name, f"query {query.name!r}"))
    if into and query.cmd not in INTO_COMMANDS:
        problems.add(f"{where}: {INTO_ANNOTATION} needs :one or :many")
    params = build_params(query, where, types, problems)
    result: plan.Result | None = None
    if query.cmd in plan.ROW_COMMANDS and not query.columns:
        problems.add(f"{where}: {query.cmd} needs a statement that returns columns")
    elif query.cmd in plan.ROW_COMMANDS:
        result = build_result(query, where, function, scope, types, problems)
    if into and isinstance(result, plan.ScalarResult):
        problems.add(
            f"{where}: {INTO_ANNOTATION} needs rows of a model; this query "
            "returns one column's value"
        )
    if problems.found_since(checkpoint) or params is None:
        return None
    copy = None
    if query.cmd == ":copyfrom":
        copy = build_copy_target(query, where, types, scope.tables, problems)
        if copy is None:
            return None
    docs = [line for line in comments if line.strip() not in ANNOTATIONS]
    return plan.Query(
        name=query.name,
        cmd=query.cmd,
        function=function,
        constant=snake(query.name).upper(),
        # As sqlc's Go code: the statement names its query in
        # pg_stat_statements and the server's logs.
        sql=f"-- name: {query.name} {query.cmd}\n{query.text.strip()}",
        doc=docstring_text(docs),
        params=params,
        params_class=params_class,
        result=result,
        always_row=always_returns_row(query),
        cursor_iterator=iterator,
        into=into,
        copy=copy,
    )


def build_params(
    query: Query, where: str, types: TypeMapper, problems: Problems
) -> tuple[plan.Param, ...] | None:
    """The keyword arguments (or NamedTuple items, for the batch commands),
    in the order of $n; None when one has a problem."""
    checkpoint = problems.checkpoint()
    ordered = sorted(query.params, key=lambda p: p.number)
    clashes = TUPLE_ATTRIBUTES if query.cmd in plan.BATCH else frozenset()
    namespace = Namespace(where)
    names: list[str] = []
    annotations: list[PyType | None] = []
    for p in ordered:
        if p.column.is_sqlc_slice:
            problems.add(
                f"{where}: sqlc.slice() becomes `IN ($n)`, which asyncpg cannot "
                "bind; use `= ANY(@name::type[])` instead"
            )
            continue
        sql_name = p.column.name or f"dollar_{p.number}"
        name = field_name(sql_name, clashes)
        if name in RESERVED_ARGUMENTS:
            name = f"{name}_"
        clash = namespace.claim(name, f"parameter {sql_name!r}")
        annotate = partial(types.annotate, p.column, f"{where}, parameter ${p.number}")
        annotations.append(problems.attempt(annotate, None))
        problems.add(clash)
        names.append(name)
    if problems.found_since(checkpoint):
        return None
    return tuple(
        plan.Param(name, pytype, not p.column.not_null)
        for name, pytype, p in zip(dedupe(names), annotations, ordered, strict=True)
        if pytype is not None
    )


def build_result(
    query: Query,
    where: str,
    function: str,
    scope: ModuleScope,
    types: TypeMapper,
    problems: Problems,
) -> plan.Result | None:
    """What a row becomes: its one column's value, the model of the table
    whose columns it has (all, in order), or else a `<Query>Row` model
    (build_row_model); None when that has a problem."""
    if len(query.columns) == 1 and query.columns[0].embed_table is None:
        column = query.columns[0]
        where_column = f"{where}, column {column.name!r}"
        scalar = problems.attempt(partial(types.annotate, column, where_column), None)
        if scalar is None:
            return None
        adapter = scope.adapter(scalar) if scalar.convert else None
        return plan.ScalarResult(scalar, adapter)
    table = scope.tables.exact_table(query.columns)
    if table is not None:
        # A table without a model fails here, with the reason it has none.
        model = problems.attempt(partial(scope.tables.model_of, table, where), None)
        if model is None:
            return None
        return plan.ModelResult(model, scope.converter(model, function), False)
    row = build_row_model(query, where, scope, types, problems)
    if row is None:
        return None
    return plan.ModelResult(row, scope.converter(row, function), True)


def build_row_model(
    query: Query,
    where: str,
    scope: ModuleScope,
    types: TypeMapper,
    problems: Problems,
) -> plan.Model | None:
    """`<Query>Row`, a field per column (sqlc.embed(t): t's model), written
    beside the query; None when a column has a problem."""
    checkpoint = problems.checkpoint()
    namespace = Namespace(where)
    names = []
    for column in query.columns:
        name = field_name(column.name, MODEL_ATTRIBUTES)
        problems.add(namespace.claim(name, f"column {column.name!r}"))
        names.append(name)
    fields: list[plan.Field] = []
    for name, column in zip(dedupe(names), query.columns, strict=True):
        built = partial(_row_field, name, column, where, types, scope.tables)
        row_field = problems.attempt(built, None)
        if row_field is not None:
            fields.append(row_field)
    row_class = f"{pascal(query.name)}Row"
    problems.add(scope.names.claim(row_class, f"query {query.name!r}"))
    if problems.found_since(checkpoint):
        return None
    return plan.Model(row_class, "", tuple(fields))


def _row_field(
    name: str, column: Column, where: str, types: TypeMapper, tables: TableModels
) -> plan.Field:
    """A row model's field; GenerateError when the column has no Python
    type, or embeds a table without a model."""
    if column.embed_table is None:
        pytype = types.annotate(column, f"{where}, column {column.name!r}")
        return plan.Field(name, pytype)
    table = tables.find_table(column.embed_table.schema, column.embed_table.name)
    if table is None:
        raise GenerateError(f"{where}: sqlc.embed of unknown table {column.name!r}")
    model = tables.model_of(table, f"{where}: sqlc.embed({table.name})")
    pytype = PyType(model.name, frozenset({tables.import_of(model)}))
    return plan.Field(name, pytype, model)


def build_copy_target(
    query: Query,
    where: str,
    types: TypeMapper,
    tables: TableModels,
    problems: Problems,
) -> plan.CopyTarget | None:
    """The table and columns a :copyfrom's binary COPY writes; None (and the
    problem reported) for a statement or a type COPY cannot carry."""
    table = query.insert_into_table
    if table is None:
        problems.add(
            f"{where}: :copyfrom needs `INSERT INTO table (columns) VALUES ($1, …)`"
        )
        return None
    ordered = sorted(query.params, key=lambda p: p.number)
    names = [p.column.name for p in ordered]
    if not all(names):
        problems.add(f"{where}: :copyfrom parameters must map to named columns")
        return None
    text_only = [
        f"{where}, column {p.column.name!r}: asyncpg sends {pg_name(p.column)} "
        "as text only, which its binary COPY cannot carry; use :batchexec"
        for p in ordered
        if pg_name(p.column) in TEXT_ONLY or types.is_extension_type(p.column)
    ]
    if text_only:
        problems.add(*text_only)
        return None
    schema = table.schema or tables.catalog.default_schema
    return plan.CopyTarget(schema, table.name, tuple(names))


Shape = tuple[tuple[str, str, object], ...]


def _shape(model: plan.Model) -> Shape:
    """What a converter of `model` writes: each field's name, its adapter's
    type (if converted) and any embedded model's name and shape."""
    return tuple(
        (
            f.name,
            f.type.annotation if f.type.convert else "",
            (f.embed.name, _shape(f.embed)) if f.embed is not None else None,
        )
        for f in model.fields
    )


class ModuleScope:
    """One query module while its queries are built: the module-level names
    taken (the table models' among them), and the converters and adapters
    its queries share."""

    def __init__(self, filename: str, tables: TableModels) -> None:
        self.filename = filename
        self.tables = tables
        self.names = Namespace(filename)
        for model in tables.models.values():
            # Unique already: models.py's class names were claimed alike.
            self.names.claim(model.name, f"table model {model.name}")
        self.converters: dict[Shape, plan.Converter] = {}
        self.adapters: dict[str, plan.Adapter] = {}

    def adapter(self, pytype: PyType) -> plan.Adapter:
        """The module's TypeAdapter for `pytype`, one per annotation."""
        name = "_" + re.sub(r"\W+", "_", pytype.annotation).strip("_").upper()
        return self.adapters.setdefault(pytype.annotation, plan.Adapter(name, pytype))

    def converter(self, model: plan.Model, first_user: str) -> str:
        """The name of the converter building `model` (with the adapters it
        needs): one per shape, named after the first model of that shape
        and written before `first_user`, its first query's function."""
        for f in model.fields:
            targets = f.embed.fields if f.embed is not None else (f,)
            for target in targets:
                if target.type.convert:
                    self.adapter(target.type)
        converter = self.converters.setdefault(
            _shape(model), plan.Converter(f"_{snake(model.name)}", model, first_user)
        )
        return converter.name

    def module(
        self, module: str, doc: str, queries: list[plan.Query]
    ) -> plan.QueryModule:
        return plan.QueryModule(
            self.filename,
            module,
            doc,
            tuple(queries),
            tuple(self.converters.values()),
            tuple(self.adapters.values()),
        )
