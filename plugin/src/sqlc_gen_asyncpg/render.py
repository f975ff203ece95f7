"""Plans (plan.py) -> Python source: a template per file kind and per command
(templates/), filled with the plan's names and types, then laid out by
`ruff format` (source.formatted).

Every name, type and import comes from the plan, and so do the return types
and what a function does when no row comes (plan.Query.returns and
row_required); what is written here is the code text around them: the
expressions that build a row, the arguments, the layout. A query module reads
like sqlc's Go output: for each query, in the order of its .sql file, its SQL,
its Params/Row classes and its function(s) together.
"""

from __future__ import annotations

import ast
from importlib import resources

from sqlc_gen_asyncpg import __version__, plan
from sqlc_gen_asyncpg.pytypes import Import
from sqlc_gen_asyncpg.source import Imports, docstring, fill, formatted, string_literal


def header(source: str, sqlc_version: str) -> str:
    return fill(
        "header", version=__version__, sqlc_version=sqlc_version, source=source
    ).rstrip("\n")


def _imports(names: frozenset[Import], package: str) -> str:
    imports = Imports(package)
    for module, name in names:
        imports.add(module, name)
    return imports.render()


def _model_class(model: plan.Model) -> str:
    config = "frozen=True"
    if model.arbitrary:  # asyncpg's Range, Point, ...: no pydantic schema
        config += ", arbitrary_types_allowed=True"
    fields = "\n".join(f"{f.name}: {f.type.annotation}" for f in model.fields)
    doc = docstring(model.doc)
    return fill("model", name=model.name, doc=doc, config=config, fields=fields)


# ------------------------------------------------------------------- models
def models_file(models: plan.ModelsModule, package: str, sqlc_version: str) -> str:
    enums = [
        fill(
            "enum",
            name=enum.name,
            doc=docstring(enum.doc),
            members="\n".join(f"{m} = {value!r}" for m, value in enum.members)
            or "pass",
        )
        for enum in models.enums
    ]
    doc = "Table models and enums."
    if models.unmodelled:
        doc += "\n\nTables without a model (queries using them fail to generate):\n"
        doc += "".join(f"- {reason}\n" for reason in models.unmodelled)
    text = fill(
        "models",
        header=header("the schema", sqlc_version),
        doc=docstring(doc.rstrip("\n")),
        imports=_imports(models.imports(f"{package}.models"), package),
        enums="".join(enums),
        models="".join(_model_class(model) for model in models.models),
    )
    return formatted("models.py", text)


# ------------------------------------------------------------------ queries
def query_file(module: plan.QueryModule, package: str, sqlc_version: str) -> str:
    adapters = {a.type.annotation: a.name for a in module.adapters}
    blocks: list[str] = []
    for query in module.queries:
        blocks.append(f"{query.constant}: Final = {string_literal(query.sql)}\n")
        if query.params_class:
            fields = [f"{p.name}: {p.type.annotation}" for p in query.params]
            params = "\n".join(fields) or "pass"
            blocks.append(fill("params", name=query.params_class, fields=params))
        if isinstance(query.result, plan.ModelResult) and query.result.defined_here:
            blocks.append(_model_class(query.result.model))
        blocks += [
            _converter(converter, adapters)
            for converter in module.converters
            if converter.first_user == query.function
        ]
        blocks.append(_function(query))
        if query.cursor_iterator:
            blocks.append(_function(query, template="iter"))
        if query.into:
            blocks.append(_function(query, into=True))
    text = fill(
        "queries",
        header=header(module.filename, sqlc_version),
        doc=docstring(module.doc),
        imports=_imports(module.imports(package, f"{package}.models"), package),
        adapters="".join(
            f"{a.name}: Final = TypeAdapter[{a.type.annotation}]({a.type.annotation})\n"
            for a in module.adapters
        ),
        queries="".join(blocks),
    )
    return formatted(f"{module.module}.py", text)


def _values(model: plan.Model, adapters: dict[str, str], start: int) -> tuple[str, int]:
    """`{"field": row[i], …}` for `model`, from row position `start` on."""
    items: list[str] = []
    position = start
    for f in model.fields:
        if f.embed is not None:
            inner, position = _values(f.embed, adapters, position)
            value = f"from_database({f.embed.name}, {inner})"
        elif f.type.convert:
            value = f"{adapters[f.type.annotation]}.validate_python(row[{position}])"
            position += 1
        else:
            value = f"row[{position}]"
            position += 1
        items.append(f"{f.name!r}: {value}")
    return "{" + ", ".join(items) + "}", position


def _converter(converter: plan.Converter, adapters: dict[str, str]) -> str:
    values, _ = _values(converter.model, adapters, 0)
    return fill("converter", name=converter.name, values=values)


def _arguments(query: plan.Query, into: bool, iterator: bool) -> str:
    args = ["conn: Executor"]
    if into:
        args.append("row_model: type[ModelT]")
    if query.params_class:
        args.append(f"params: Iterable[{query.params_class}]")
    elif query.params or iterator:
        args.append("*")
        for p in query.params:
            default = " = None" if p.optional else ""
            args.append(f"{p.name}: {p.type.annotation}{default}")
    if iterator:
        args.append("prefetch: int = 100")
    return ", ".join(args)


def _row(query: plan.Query, into: bool) -> str:
    """The expression making a row (of type query.row_type) of Record `row`;
    "" for a statement that returns none."""
    result = query.result
    if isinstance(result, plan.ModelResult):
        model = "row_model" if into else result.model.name
        return f"{result.converter}(row, {model})"
    if isinstance(result, plan.ScalarResult) and result.adapter is not None:
        return f"{result.adapter.name}.validate_python(row[0])"
    if isinstance(result, plan.ScalarResult):
        return "row[0]"
    return ""


def _function(query: plan.Query, *, into: bool = False, template: str = "") -> str:
    """`query`'s function from its command's template (or `template`); rows
    become the caller's `row_model` when `into`."""
    row_type, value = query.row_type(into=into), _row(query, into)
    doc, check = docstring(query.doc), ""
    if into:
        assert isinstance(query.result, plan.ModelResult)
        model = query.result.model.name
        doc = docstring(
            "Each row built as `row_model`, which must have the same fields (names,\n"
            f"order and types) as {model}; the values are not validated again."
        )
        check = f"check_row_model(row_model, {model})"
    no_row = "return None"
    if query.row_required:
        no_row = f"raise NoRowReturned({query.name!r})"
    returned = f"return {value}"
    if value == "row[0]":  # mypy --strict refuses returning Any unannotated
        returned = f"value: {row_type} = {value}\nreturn value"
    copy = query.copy
    if not template:
        template = query.cmd[1:]
        if query.cmd == ":batchone" and query.row_required:
            template = "batchone_every_row"
    return fill(
        template,
        name=f"{query.function}_into" if into else query.function,
        arguments=_arguments(query, into, iterator=template == "iter"),
        arguments_of_call=", ".join([query.constant, *(p.name for p in query.params)]),
        constant=query.constant,
        doc=doc,
        check=check,
        row_type=row_type,
        optional=plan.optional(row_type),
        value=value,
        returns=query.returns(into=into, iterator=template == "iter"),
        no_row=no_row,
        returned=returned,
        table=repr(copy.table) if copy else "",
        columns=repr(list(copy.columns)) if copy else "",
        schema=repr(copy.schema) if copy else "",
    )


# ------------------------------------------------------------------ package
def init_file(package: str, modules: list[str], sqlc_version: str) -> str:
    """The package's __init__.py: its docstring, then runtime.py's code."""
    runtime = resources.files("sqlc_gen_asyncpg") / "runtime.py"
    source = runtime.read_text(encoding="utf-8")
    after_docstring = ast.parse(source).body[0].end_lineno or 0
    text = fill(
        "init",
        header=header("sqlc.yaml", sqlc_version),
        package=package,
        modules=", ".join(["models", *modules]),
        runtime="\n".join(source.splitlines()[after_docstring:]).strip("\n"),
    )
    return formatted("__init__.py", text)
