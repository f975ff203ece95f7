"""One query's Python: its function (and Params/Row helpers it needs)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlc_gen_asyncpg.analysis import always_returns_row
from sqlc_gen_asyncpg.errors import GenerateError
from sqlc_gen_asyncpg.naming import pascal, snake
from sqlc_gen_asyncpg.pytypes import PyType
from sqlc_gen_asyncpg.request import Query
from sqlc_gen_asyncpg.shapes import BATCH, Param, Result
from sqlc_gen_asyncpg.source import (
    INDENT,
    Imports,
    bracketed,
    docstring,
    exploded,
    nested,
    quoted,
)

if TYPE_CHECKING:
    from sqlc_gen_asyncpg.generate import Generator


@dataclass
class QueryEmitter:
    gen: Generator
    query: Query
    function: str
    constant: str
    result: Result | None
    params: list[Param]
    imports: Imports
    converters: dict[tuple[str, tuple[str, ...]], tuple[str, str]]
    adapters: list[str]

    def signature(self, extra: list[str], returns: str, suffix: str = "") -> str:
        args = ["conn: Executor"]
        if self.query.cmd in BATCH:
            self.imports.add("collections.abc", "Iterable")
            args.append(f"params: Iterable[{pascal(self.query.name)}Params]")
        elif self.params or extra:
            args.append("*")
            for p in self.params:
                default = " = None" if p.optional else ""
                args.append(f"{p.name}: {p.type.annotation}{default}")
        args += extra
        name = f"{self.function}{suffix}"
        return exploded(f"async def {name}(", args, f") -> {returns}:", "")

    def docstring(self) -> str:
        comment = " ".join(c.strip() for c in self.query.comments if c.strip())
        text = comment or f"{self.query.name} ({self.query.cmd})."
        return f"{INDENT}{docstring(text)}"

    def call_args(self) -> list[str]:
        return [self.constant, *(p.name for p in self.params)]

    def params_class(self) -> str:
        self.imports.add("typing", "NamedTuple")
        name = f"{pascal(self.query.name)}Params"
        lines = [
            f"class {name}(NamedTuple):",
            f'{INDENT}"""One argument set of {self.query.name}, in $n order."""',
            "",
        ]
        lines += [f"{INDENT}{p.name}: {p.type.annotation}" for p in self.params]
        return "\n".join(lines) + "\n\n\n"

    def converter(self) -> str:
        """Name of a function turning an asyncpg Record into the result type."""
        assert self.result is not None
        self.imports.add("asyncpg", "Record")
        if self.result.fields is None:
            assert self.result.scalar is not None
            key: tuple[str, tuple[str, ...]] = ("scalar:" + self.result.model, ())
            if key not in self.converters:
                cleaned = re.sub(r"\W+", "_", self.result.model).strip("_").lower()
                name = f"_as_{cleaned}"
                body = self.scalar_body(self.result.scalar)
                code = f"def {name}(row: Record) -> {self.result.model}:\n{body}"
                self.converters[key] = (name, code)
            return self.converters[key][0]
        position = 0
        kwargs: list[str] = []
        signature: list[str] = []
        for f in self.result.fields:
            if f.embed is not None:
                inner = []
                for column_field in self.gen.table_fields(f.embed):
                    inner.append(f"{column_field.name}=row[{position}]")
                    position += 1
                model = f.type.annotation
                kwargs.append(nested(f"{f.name}={model}(", inner, ")", INDENT * 2))
                signature.append(f"{f.name}:{model}")
            else:
                kwargs.append(f"{f.name}=row[{position}]")
                signature.append(f"{f.name}:{f.type.annotation}")
                position += 1
        key = (self.result.model, tuple(signature))
        if key not in self.converters:
            name = f"_to_{snake(self.result.model)}"
            if any(n == name for n, _ in self.converters.values()):
                name = f"{name}_{len(self.converters)}"
            call = bracketed(f"return {self.result.model}(", kwargs, ")", INDENT)
            if "\n" in call:
                call = exploded(f"return {self.result.model}(", kwargs, ")", INDENT)
            code = f"def {name}(row: Record) -> {self.result.model}:\n{call}"
            self.converters[key] = (name, code)
        return self.converters[key][0]

    def scalar_body(self, pytype: PyType) -> str:
        if pytype.convert:
            self.imports.add("pydantic", "TypeAdapter")
            adapter = f"_{self.constant}_TYPE"
            self.adapters.append(
                bracketed(
                    f"{adapter}: Final = TypeAdapter[{pytype.annotation}](",
                    [pytype.annotation],
                    ")",
                    "",
                )
            )
            return f"{INDENT}return {adapter}.validate_python(row[0])"
        return f"{INDENT}value: {pytype.annotation} = row[0]\n{INDENT}return value"

    def emit(self) -> str:
        cmd = self.query.cmd
        body: list[str] = [self.docstring()]
        prefix = ""
        if cmd == ":one":
            convert = self.converter_or_fail()
            always = always_returns_row(self.query)
            returns = self.result_annotation() if always else self.optional_annotation()
            body.append(
                bracketed("row = await conn.fetchrow(", self.call_args(), ")", INDENT)
            )
            body.append(f"{INDENT}if row is None:")
            if always:
                self.imports.add(self.gen.package, "NoRowReturned")
                body.append(f'{INDENT}{INDENT}raise NoRowReturned("{self.query.name}")')
            else:
                body.append(f"{INDENT}{INDENT}return None")
            body.append(f"{INDENT}return {convert}(row)")
            sig = self.signature([], returns)
        elif cmd == ":many":
            convert = self.converter_or_fail()
            returns = f"list[{self.result_annotation()}]"
            body.append(
                bracketed("rows = await conn.fetch(", self.call_args(), ")", INDENT)
            )
            body.append(f"{INDENT}return [{convert}(row) for row in rows]")
            sig = self.signature([], returns)
            return "\n".join([sig, *body]) + "\n\n\n" + self.cursor_variant(convert)
        elif cmd == ":exec":
            body.append(bracketed("await conn.execute(", self.call_args(), ")", INDENT))
            sig = self.signature([], "None")
        elif cmd == ":execrows":
            self.imports.add(self.gen.package, "rows_affected")
            body.append(
                bracketed("status = await conn.execute(", self.call_args(), ")", INDENT)
            )
            body.append(f"{INDENT}return rows_affected(status)")
            sig = self.signature([], "int")
        elif cmd == ":execresult":
            body.append(
                bracketed(
                    "status: str = await conn.execute(", self.call_args(), ")", INDENT
                )
            )
            body.append(f"{INDENT}return status")
            sig = self.signature([], "str")
        elif cmd == ":batchexec":
            prefix = self.params_class()
            body.append(f"{INDENT}await conn.executemany({self.constant}, params)")
            sig = self.signature([], "None")
        elif cmd == ":batchone":
            prefix = self.params_class()
            convert = self.converter_or_fail()
            optional = self.optional_annotation()
            if always_returns_row(self.query):
                # One row per argument set is guaranteed, so the pipelined
                # fetchmany keeps positions aligned.
                body.append(
                    f"{INDENT}rows = await conn.fetchmany({self.constant}, params)"
                )
                body.append(f"{INDENT}return [{convert}(row) for row in rows]")
                sig = self.signature([], f"list[{self.result_annotation()}]")
            else:
                body.append(f"{INDENT}results: list[{optional}] = []")
                body.append(f"{INDENT}for args in params:")
                body.append(
                    f"{INDENT}{INDENT}row = await conn.fetchrow({self.constant}, *args)"
                )
                body.append(
                    f"{INDENT}{INDENT}results.append(None if row is None else {convert}(row))"
                )
                body.append(f"{INDENT}return results")
                sig = self.signature([], f"list[{optional}]")
        elif cmd == ":batchmany":
            prefix = self.params_class()
            convert = self.converter_or_fail()
            annotation = self.result_annotation()
            body.append(f"{INDENT}results: list[list[{annotation}]] = []")
            body.append(f"{INDENT}for args in params:")
            body.append(
                f"{INDENT}{INDENT}rows = await conn.fetch({self.constant}, *args)"
            )
            body.append(
                f"{INDENT}{INDENT}results.append([{convert}(row) for row in rows])"
            )
            body.append(f"{INDENT}return results")
            sig = self.signature([], f"list[list[{annotation}]]")
        else:  # :copyfrom
            prefix = self.params_class()
            body += self.copyfrom_body()
            sig = self.signature([], "int")
        lines = [line for chunk in body for line in chunk.split("\n")]
        return prefix + "\n".join([sig, *lines])

    def copyfrom_body(self) -> list[str]:
        table = self.query.insert_into_table
        if table is None:
            raise GenerateError(
                f"{self.query.filename}: query {self.query.name!r}: :copyfrom needs "
                "`INSERT INTO table (columns) VALUES ($1, …)`"
            )
        self.imports.add(self.gen.package, "rows_affected")
        where = f"{self.query.filename}: query {self.query.name!r}"
        names = [
            p.column.name for p in sorted(self.query.params, key=lambda p: p.number)
        ]
        if not all(names):
            raise GenerateError(
                f"{where}: :copyfrom parameters must map to named columns"
            )
        for p in self.query.params:
            if p.column.type.name.lower().rpartition(".")[2] in {"json", "jsonb"}:
                # COPY goes in binary, and init_connection's JSON codec is text.
                raise GenerateError(
                    f"{where}, column {p.column.name!r}: :copyfrom cannot send json/jsonb "
                    "(asyncpg copies in binary; the JSON codec is text); use :batchexec"
                )
        schema = table.schema or self.gen.catalog.default_schema
        call = exploded(
            "status = await conn.copy_records_to_table(",
            [
                quoted(table.name),
                "records=params",
                nested("columns=[", [quoted(n) for n in names], "]", INDENT * 2),
                f"schema_name={quoted(schema)}",
            ],
            ")",
            INDENT,
        )
        return [call, f"{INDENT}return rows_affected(status)"]

    def converter_or_fail(self) -> str:
        if self.result is None:
            raise GenerateError(
                f"{self.query.filename}: query {self.query.name!r}: {self.query.cmd} "
                "needs a statement that returns columns"
            )
        return self.converter()

    def result_annotation(self) -> str:
        assert self.result is not None
        return self.result.model

    def optional_annotation(self) -> str:
        annotation = self.result_annotation()
        return annotation if annotation.endswith("| None") else f"{annotation} | None"

    def cursor_variant(self, convert: str) -> str:
        """`<name>_iter`: streams a large result through a server-side cursor."""
        self.imports.add("collections.abc", "AsyncIterator")
        sig = self.signature(
            ["prefetch: int = 100"],
            f"AsyncIterator[{self.result_annotation()}]",
            "_iter",
        )
        doc = (
            f'{INDENT}"""Stream {self.query.name} through a cursor, `prefetch` rows '
            f"at a time.\n\n{INDENT}Needs an open transaction on `conn` (asyncpg cursors "
            f'do).\n{INDENT}"""'
        )
        call = bracketed(
            "async for row in conn.cursor(",
            [*self.call_args(), "prefetch=prefetch"],
            "):",
            INDENT,
        )
        return "\n".join([sig, doc, call, f"{INDENT}{INDENT}yield {convert}(row)"])
