"""sqlc's request -> plans (plan.py): names, types, results, imports.

Every problem is collected with its file, query and column, and the run goes
on, so one `sqlc generate` reports all of them (see Planner.problems).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TypeVar

from sqlc_gen_asyncpg import plan
from sqlc_gen_asyncpg.analysis import always_returns_row
from sqlc_gen_asyncpg.errors import GenerateError
from sqlc_gen_asyncpg.naming import (
    MODEL_ATTRIBUTES,
    TUPLE_ATTRIBUTES,
    Namespace,
    dedupe,
    enum_member,
    field_name,
    function_name,
    pascal,
    singular,
    snake,
)
from sqlc_gen_asyncpg.options import Options
from sqlc_gen_asyncpg.pytypes import (
    TEXT_ONLY,
    PyType,
    TypeMapper,
    pg_name,
    qualified_class_name,
)
from sqlc_gen_asyncpg.request import (
    Catalog,
    Column,
    GenerateRequest,
    Query,
    Table,
)

T = TypeVar("T")
RESERVED_MODULES = frozenset({"models", "__init__"})
# Arguments every generated function may take besides the query's own.
RESERVED_ARGUMENTS = frozenset({"conn", "params", "prefetch", "timeout", "row_model"})
ITER_ANNOTATION = "@iter"
INTO_ANNOTATION = "@into"
ANNOTATIONS = frozenset({ITER_ANNOTATION, INTO_ANNOTATION})
INTO_COMMANDS = frozenset({":one", ":many"})


def _comment_lines(comments: tuple[str, ...]) -> list[str]:
    # sqlc hands over each `--` line without the dashes: " text".
    return [c[1:] if c.startswith(" ") else c for c in comments]


def _docstring_text(lines: list[str]) -> str:
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def file_header(path: Path) -> list[str]:
    """The comment block that opens a query file, when a blank line ends it
    (so it is the file's, not its first query's); [] if there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    header: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") and not stripped.startswith("-- name:"):
            header.append(stripped[2:])
            continue
        return _comment_lines(tuple(header)) if header and not stripped else []
    return []


_DOMAIN = re.compile(
    r'\bCREATE\s+DOMAIN\s+(?:(?:"[^"]*"|[\w$]+)\s*\.\s*)?("[^"]*"|[\w$]+)',
    re.IGNORECASE,
)


def declared_domains(schema_paths: tuple[str, ...]) -> frozenset[str]:
    """Lower-cased names of the domains `CREATE DOMAIN` declares in the
    schema files (a folder's `.sql` files, as sqlc reads them). sqlc's
    catalog leaves domains out and names a domain column's type as it would
    an extension's; asyncpg decodes a domain as its base type, so the two
    must not be taken for one another. A match inside a comment or string
    only makes a type of that name refused."""
    names: set[str] = set()
    for configured in schema_paths:
        path = Path(configured)
        files = sorted(path.glob("*.sql")) if path.is_dir() else [path]
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            names.update(m.group(1).strip('"').lower() for m in _DOMAIN.finditer(text))
    return frozenset(names)


class Planner:
    def __init__(self, request: GenerateRequest, default_package: str) -> None:
        self.request = request
        self.catalog: Catalog = request.catalog
        self.options = Options.parse(request.options, default_package)
        self.package = self.options.package
        self.models_module = f"{self.package}.models"
        self.types = TypeMapper(
            self.catalog,
            self.options,
            self.models_module,
            declared_domains(request.schema_paths),
        )
        self.problems: list[str] = []
        self._class_names = Namespace("models.py")
        self.table_models: dict[tuple[str, str], plan.Model] = {}
        self.unmodelled: dict[tuple[str, str], str] = {}
        self.models = self._plan_models()

    @contextmanager
    def _collecting(self) -> Iterator[None]:
        try:
            yield
        except GenerateError as exc:
            self.problems.extend(exc.problems)

    def _claim(self, namespace: Namespace, name: str, origin: str) -> None:
        problem = namespace.claim(name, origin)
        if problem is not None:
            self.problems.append(problem)

    # ----------------------------------------------------------------- models
    def _plan_models(self) -> plan.ModelsModule:
        enums = []
        for enum in self.catalog.enums:
            name = qualified_class_name(enum.schema, pascal(enum.name), self.catalog)
            self._claim(self._class_names, name, f"enum {enum.name!r}")
            members = Namespace(f"models.py: enum {enum.name!r}")
            member_names = [enum_member(v, i) for i, v in enumerate(enum.values)]
            for member, value in zip(member_names, enum.values, strict=True):
                self._claim(members, member, f"value {value!r}")
            enums.append(
                plan.Enum(
                    name,
                    _first_line(enum.comment),
                    tuple(zip(member_names, enum.values, strict=True)),
                )
            )
        for table in self.catalog.tables:
            stem = pascal(singular(table.name))
            name = qualified_class_name(table.schema, stem, self.catalog)
            self._claim(self._class_names, name, f"table {table.name!r}")
            fields = self._table_fields(table)
            if fields is None:
                continue
            self.table_models[(table.schema, table.name)] = plan.Model(
                name, _first_line(table.comment), fields
            )
        return plan.ModelsModule(
            tuple(enums),
            tuple(self.table_models.values()),
            tuple(self.unmodelled.values()),
        )

    def _table_fields(self, table: Table) -> tuple[plan.Field, ...] | None:
        """The table's fields; None (and the reason kept) when a column has no
        Python type or no Python name, so that only the queries that need the
        model fail."""
        names = Namespace(f"models.py: table {table.name!r}")
        fields = []
        for position, column in enumerate(table.columns, 1):
            name = field_name(column.name, MODEL_ATTRIBUTES)
            if not name:
                # A view's `SELECT 1` column, which sqlc leaves unnamed.
                self.unmodelled.setdefault(
                    (table.schema, table.name),
                    f"table {table.name}, column {position}: "
                    + (
                        f"{column.name!r} has no letter or digit to make a Python "
                        "name from"
                        if column.name
                        else "no name (an expression without AS in the view)"
                    ),
                )
                continue
            self._claim(names, name, f"column {column.name!r}")
            try:
                pytype = self.types.annotate(
                    column, f"table {table.name}, column {column.name}"
                )
            except GenerateError as exc:
                self.unmodelled.setdefault((table.schema, table.name), str(exc))
                continue
            fields.append(plan.Field(name, pytype))
        if (table.schema, table.name) in self.unmodelled:
            return None
        return tuple(fields)

    def find_table(self, schema: str, name: str) -> Table | None:
        schema = schema or self.catalog.default_schema
        for table in self.catalog.tables:
            if table.name == name and table.schema == schema:
                return table
        return None

    def _exact_table(self, columns: tuple[Column, ...]) -> Table | None:
        """The table whose columns these are, all and in order, else None."""
        first = columns[0].table
        if first is None:
            return None
        table = self.find_table(first.schema, first.name)
        if table is None or len(table.columns) != len(columns):
            return None
        for mine, theirs in zip(columns, table.columns, strict=True):
            if (
                mine.embed_table is not None
                or mine.table is None
                or mine.table.name != table.name
                or mine.name != theirs.name
                or mine.type.name != theirs.type.name
                or mine.not_null != theirs.not_null
                or mine.array_dims != theirs.array_dims
            ):
                return None
        return table

    def _modelled(self, table: Table, where: str) -> plan.Model:
        model = self.table_models.get((table.schema, table.name))
        if model is None:
            reason = self.unmodelled.get((table.schema, table.name), "")
            raise GenerateError(f"{where}: table {table.name} has no model: {reason}")
        return model

    # ----------------------------------------------------------------- queries
    def query_modules(self) -> list[plan.QueryModule]:
        by_file: dict[str, list[Query]] = {}
        owners: dict[str, str] = {}
        for query in self.request.queries:
            other = owners.setdefault(query.name, query.filename)
            if other != query.filename:
                self.problems.append(
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
                self.problems.append(
                    f"{filename}: the file would become module {module!r}, which "
                    "the generated package keeps for itself; rename the file"
                )
                continue
            self._claim(modules, module, filename)
            planned.append(self._plan_module(filename, module, by_file[filename]))
        return planned

    def _header(self, filename: str) -> list[str]:
        for configured in self.request.query_paths:
            path = Path(configured)
            candidate = path / filename if path.is_dir() else path
            if candidate.name == filename and candidate.is_file():
                return file_header(candidate)
        return []

    def _plan_module(
        self, filename: str, module: str, queries: list[Query]
    ) -> plan.QueryModule:
        header = self._header(filename)
        scope = ModuleScope(filename)
        for model in self.table_models.values():
            scope.names.claim(model.name, f"table model {model.name}")
        planned: list[plan.Query] = []
        for index, query in enumerate(queries):
            with self._collecting():
                comments = _comment_lines(query.comments)
                if index == 0 and comments[: len(header)] == header:
                    comments = comments[len(header) :]
                planned.append(self._plan_query(query, comments, scope))
        return plan.QueryModule(
            filename,
            module,
            _docstring_text(header),
            tuple(planned),
            tuple(scope.converters.values()),
            tuple(scope.adapters.values()),
        )

    def _plan_query(
        self, query: Query, comments: list[str], scope: ModuleScope
    ) -> plan.Query:
        where = f"{query.filename}: query {query.name!r}"
        if query.cmd not in plan.COMMANDS:
            raise GenerateError(
                f"{where}: command {query.cmd!r} is not supported; use one of "
                + ", ".join(sorted(plan.COMMANDS))
            )
        function = function_name(query.name)
        if not function:
            raise GenerateError(f"{where}: the name is not a Python identifier")
        iterator = query.cmd == ":many" and (
            self.options.cursor_iterators
            or any(line.strip() == ITER_ANNOTATION for line in comments)
        )
        into = any(line.strip() == INTO_ANNOTATION for line in comments)
        batch = query.cmd in plan.BATCH
        params_class = f"{pascal(query.name)}Params" if batch else ""
        names = [
            function,
            f"{function}_iter" if iterator else "",
            f"{function}_into" if into else "",
            params_class,
        ]
        claimed = [scope.names.claim(n, f"query {query.name!r}") for n in names if n]
        problems = [problem for problem in claimed if problem]
        if into and query.cmd not in INTO_COMMANDS:
            problems.append(f"{where}: {INTO_ANNOTATION} needs :one or :many")
        no_params: tuple[plan.Param, ...] = ()
        params = _attempt(problems, lambda: self._params(query, where), no_params)
        result: plan.Result | None = None
        if query.cmd in plan.ROW_COMMANDS and not query.columns:
            problems.append(
                f"{where}: {query.cmd} needs a statement that returns columns"
            )
        elif query.cmd in plan.ROW_COMMANDS:
            result = _attempt(
                problems, lambda: self._result(query, where, function, scope), None
            )
        if into and isinstance(result, plan.ScalarResult):
            problems.append(
                f"{where}: {INTO_ANNOTATION} needs rows of a model; this query "
                "returns one column's value"
            )
        if problems:
            raise GenerateError(*problems)
        docs = [line for line in comments if line.strip() not in ANNOTATIONS]
        return plan.Query(
            name=query.name,
            cmd=query.cmd,
            function=function,
            constant=snake(query.name).upper(),
            # As sqlc's Go code: the statement names its query in
            # pg_stat_statements and the server's logs.
            sql=f"-- name: {query.name} {query.cmd}\n{query.text.strip()}",
            doc=_docstring_text(docs),
            params=params,
            params_class=params_class,
            result=result,
            always_row=always_returns_row(query),
            cursor_iterator=iterator,
            into=into,
            copy=self._copy_target(query, where) if query.cmd == ":copyfrom" else None,
        )

    def _params(self, query: Query, where: str) -> tuple[plan.Param, ...]:
        ordered = sorted(query.params, key=lambda p: p.number)
        clashes = TUPLE_ATTRIBUTES if query.cmd in plan.BATCH else frozenset()
        namespace = Namespace(where)
        problems: list[str] = []
        names: list[str] = []
        types: list[PyType] = []
        for p in ordered:
            if p.column.is_sqlc_slice:
                problems.append(
                    f"{where}: sqlc.slice() becomes `IN ($n)`, which asyncpg cannot "
                    "bind; use `= ANY(@name::type[])` instead"
                )
                continue
            sql_name = p.column.name or f"dollar_{p.number}"
            name = field_name(sql_name, clashes)
            if name in RESERVED_ARGUMENTS:
                name = f"{name}_"
            problem = namespace.claim(name, f"parameter {sql_name!r}")
            try:
                types.append(
                    self.types.annotate(p.column, f"{where}, parameter ${p.number}")
                )
            except GenerateError as exc:
                problems.extend(exc.problems)
            problems.extend([problem] if problem else [])
            names.append(name)
        if problems:
            raise GenerateError(*problems)
        return tuple(
            plan.Param(name, pytype, not p.column.not_null)
            for name, pytype, p in zip(dedupe(names), types, ordered, strict=True)
        )

    def _result(
        self, query: Query, where: str, function: str, scope: ModuleScope
    ) -> plan.Result:
        if len(query.columns) == 1 and query.columns[0].embed_table is None:
            column = query.columns[0]
            scalar = self.types.annotate(column, f"{where}, column {column.name!r}")
            adapter = scope.adapter(scalar) if scalar.convert else None
            return plan.ScalarResult(scalar, adapter)
        table = self._exact_table(query.columns)
        if table is not None:
            # A table without a model fails here, with the reason it has none.
            model = self._modelled(table, where)
            return plan.ModelResult(model, scope.converter(model, function), False)
        model = self._row_model(query, where, scope)
        return plan.ModelResult(model, scope.converter(model, function), True)

    def _row_model(self, query: Query, where: str, scope: ModuleScope) -> plan.Model:
        namespace = Namespace(where)
        problems: list[str] = []
        names = []
        for column in query.columns:
            name = field_name(column.name, MODEL_ATTRIBUTES)
            problem = namespace.claim(name, f"column {column.name!r}")
            problems.extend([problem] if problem else [])
            names.append(name)
        fields: list[plan.Field] = []
        for name, column in zip(dedupe(names), query.columns, strict=True):
            try:
                fields.append(self._row_field(name, column, where))
            except GenerateError as exc:
                problems.extend(exc.problems)
        row_class = f"{pascal(query.name)}Row"
        problem = scope.names.claim(row_class, f"query {query.name!r}")
        problems.extend([problem] if problem else [])
        if problems:
            raise GenerateError(*problems)
        return plan.Model(row_class, "", tuple(fields))

    def _row_field(self, name: str, column: Column, where: str) -> plan.Field:
        if column.embed_table is None:
            pytype = self.types.annotate(column, f"{where}, column {column.name!r}")
            return plan.Field(name, pytype)
        table = self.find_table(column.embed_table.schema, column.embed_table.name)
        if table is None:
            raise GenerateError(f"{where}: sqlc.embed of unknown table {column.name!r}")
        model = self._modelled(table, f"{where}: sqlc.embed({table.name})")
        imports = frozenset({(self.models_module, model.name)})
        return plan.Field(name, PyType(model.name, imports), model)

    def _copy_target(self, query: Query, where: str) -> plan.CopyTarget:
        table = query.insert_into_table
        if table is None:
            raise GenerateError(
                f"{where}: :copyfrom needs `INSERT INTO table (columns) VALUES ($1, …)`"
            )
        ordered = sorted(query.params, key=lambda p: p.number)
        names = [p.column.name for p in ordered]
        if not all(names):
            raise GenerateError(
                f"{where}: :copyfrom parameters must map to named columns"
            )
        text_only = [
            f"{where}, column {p.column.name!r}: asyncpg sends {pg_name(p.column)} "
            "as text only, which its binary COPY cannot carry; use :batchexec"
            for p in ordered
            if pg_name(p.column) in TEXT_ONLY or self.types.is_extension_type(p.column)
        ]
        if text_only:
            raise GenerateError(*text_only)
        schema = table.schema or self.catalog.default_schema
        return plan.CopyTarget(schema, table.name, tuple(names))


def _attempt(problems: list[str], step: Callable[[], T], failed: T) -> T:
    """`step()`, or `failed` with its problems added to `problems`."""
    try:
        return step()
    except GenerateError as exc:
        problems.extend(exc.problems)
        return failed


def _first_line(comment: str) -> str:
    return comment.strip().splitlines()[0] if comment.strip() else ""


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
    """Module-level names of one query module, and the converters and
    adapters its queries share."""

    def __init__(self, filename: str) -> None:
        self.names = Namespace(filename)
        self.converters: dict[Shape, plan.Converter] = {}
        self.adapters: dict[str, plan.Adapter] = {}

    def adapter(self, pytype: PyType) -> plan.Adapter:
        name = "_" + re.sub(r"\W+", "_", pytype.annotation).strip("_").upper()
        return self.adapters.setdefault(pytype.annotation, plan.Adapter(name, pytype))

    def converter(self, model: plan.Model, first_user: str) -> str:
        for f in model.fields:
            targets = f.embed.fields if f.embed is not None else (f,)
            for target in targets:
                if target.type.convert:
                    self.adapter(target.type)
        # One per shape, named after the first model of that shape.
        converter = self.converters.setdefault(
            _shape(model), plan.Converter(f"_{snake(model.name)}", model, first_user)
        )
        return converter.name
