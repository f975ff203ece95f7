"""The parts of sqlc's GenerateRequest (protojson, proto field names) we use."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Identifier:
    schema: str
    name: str

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> Identifier:
        data = data or {}
        return cls(schema=data.get("schema") or "", name=data.get("name") or "")


@dataclass(frozen=True)
class Column:
    name: str
    not_null: bool
    is_array: bool
    array_dims: int
    type: Identifier
    table: Identifier | None
    embed_table: Identifier | None
    is_named_param: bool
    is_sqlc_slice: bool

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Column:
        is_array = bool(data.get("is_array"))
        dims = int(data.get("array_dims") or 0)
        return cls(
            name=data.get("name") or "",
            not_null=bool(data.get("not_null")),
            is_array=is_array,
            array_dims=max(dims, 1) if is_array else 0,
            type=Identifier.parse(data.get("type")),
            table=Identifier.parse(data["table"]) if data.get("table") else None,
            embed_table=(
                Identifier.parse(data["embed_table"])
                if data.get("embed_table")
                else None
            ),
            is_named_param=bool(data.get("is_named_param")),
            is_sqlc_slice=bool(data.get("is_sqlc_slice")),
        )


@dataclass(frozen=True)
class Parameter:
    number: int
    column: Column


@dataclass(frozen=True)
class Query:
    name: str
    cmd: str
    text: str
    filename: str
    columns: tuple[Column, ...]
    params: tuple[Parameter, ...]
    comments: tuple[str, ...]
    insert_into_table: Identifier | None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Query:
        return cls(
            name=data.get("name") or "",
            cmd=data.get("cmd") or "",
            text=data.get("text") or "",
            filename=data.get("filename") or "",
            columns=tuple(Column.parse(c) for c in data.get("columns") or ()),
            params=tuple(
                Parameter(number=int(p["number"]), column=Column.parse(p["column"]))
                for p in data.get("params") or ()
            ),
            comments=tuple(data.get("comments") or ()),
            insert_into_table=(
                Identifier.parse(data["insert_into_table"])
                if data.get("insert_into_table")
                else None
            ),
        )


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...]
    comment: str


@dataclass(frozen=True)
class Enum:
    schema: str
    name: str
    values: tuple[str, ...]
    comment: str


SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_temp"})


@dataclass(frozen=True)
class Catalog:
    default_schema: str
    tables: tuple[Table, ...]
    enums: tuple[Enum, ...]
    # (schema, name), lower-cased, of every composite type, table and view,
    # those of the system schemas included: the types of whole rows.
    row_types: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> Catalog:
        data = data or {}
        tables: list[Table] = []
        enums: list[Enum] = []
        row_types: set[tuple[str, str]] = set()
        for schema in data.get("schemas") or ():
            schema_name = schema.get("name") or ""
            row_types.update(
                (schema_name.lower(), (item.get("name") or "").lower())
                for item in schema.get("composite_types") or ()
            )
            row_types.update(
                (schema_name.lower(), Identifier.parse(table.get("rel")).name.lower())
                for table in schema.get("tables") or ()
            )
            if schema_name in SYSTEM_SCHEMAS:
                continue
            for table in schema.get("tables") or ():
                rel = Identifier.parse(table.get("rel"))
                tables.append(
                    Table(
                        schema=schema_name,
                        name=rel.name,
                        columns=tuple(
                            Column.parse(c) for c in table.get("columns") or ()
                        ),
                        comment=table.get("comment") or "",
                    )
                )
            for enum in schema.get("enums") or ():
                enums.append(
                    Enum(
                        schema=schema_name,
                        name=enum.get("name") or "",
                        values=tuple(enum.get("vals") or ()),
                        comment=enum.get("comment") or "",
                    )
                )
        return cls(
            default_schema=data.get("default_schema") or "public",
            tables=tuple(tables),
            enums=tuple(enums),
            row_types=frozenset(row_types),
        )


@dataclass(frozen=True)
class GenerateRequest:
    catalog: Catalog
    queries: tuple[Query, ...]
    sqlc_version: str
    options: dict[str, Any]
    query_paths: tuple[str, ...]  # settings.queries: files or folders, as configured
    schema_paths: tuple[str, ...] = ()  # settings.schema, likewise

    @classmethod
    def parse(cls, data: dict[str, Any]) -> GenerateRequest:
        raw_options = data.get("plugin_options") or ""
        options: Any = json.loads(base64.b64decode(raw_options)) if raw_options else {}
        if not isinstance(options, dict):
            options = {"": options}
        return cls(
            catalog=Catalog.parse(data.get("catalog")),
            queries=tuple(Query.parse(q) for q in data.get("queries") or ()),
            sqlc_version=data.get("sqlc_version") or "",
            options=options,
            query_paths=tuple((data.get("settings") or {}).get("queries") or ()),
            schema_paths=tuple((data.get("settings") or {}).get("schema") or ()),
        )
