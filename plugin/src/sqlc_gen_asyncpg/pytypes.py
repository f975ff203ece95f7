"""PostgreSQL types to Python annotations, as asyncpg decodes them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlc_gen_asyncpg.errors import GenerateError
from sqlc_gen_asyncpg.options import Options, PythonType
from sqlc_gen_asyncpg.request import Catalog, Column

# (module, name) pairs; module "" is a builtin.
Import = tuple[str, str]

_SCALARS: dict[str, tuple[str, str]] = {}


def _register(module: str, name: str, *pg_names: str) -> None:
    for pg_name in pg_names:
        _SCALARS[pg_name] = (module, name)


_register("", "int", "int2", "smallint", "int4", "integer", "int", "int8", "bigint")
_register(
    "", "int", "serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"
)
_register("", "int", "oid")
_register("decimal", "Decimal", "numeric", "decimal")
_register("", "float", "float4", "real", "float8", "double precision", "float")
_register("", "bool", "bool", "boolean")
_register("", "str", "text", "varchar", "character varying", "char", "bpchar")
_register("", "str", "character", "citext", "name")
_register("uuid", "UUID", "uuid")
_register("datetime", "datetime", "timestamptz", "timestamp with time zone")
_register("datetime", "datetime", "timestamp", "timestamp without time zone")
_register("datetime", "date", "date")
_register("datetime", "time", "time", "time without time zone")
_register("datetime", "time", "timetz", "time with time zone")
_register("datetime", "timedelta", "interval")
_register("", "bytes", "bytea")
_register("pydantic", "JsonValue", "json", "jsonb")
_register("", "None", "void")


@dataclass(frozen=True)
class PyType:
    """An annotation plus what it needs imported; `convert` marks types asyncpg
    does not hand back as-is (enums come as str, overrides as plain data)."""

    annotation: str
    imports: frozenset[Import] = field(default_factory=frozenset)
    convert: bool = False


def _pg_name(column: Column) -> str:
    """`int4`, or `schema.name` outside pg_catalog. sqlc sometimes puts the
    schema into the name itself (`pg_catalog.int4` on parameters)."""
    schema, _, name = column.type.name.lower().rpartition(".")
    schema = schema or column.type.schema.lower()
    if schema and schema != "pg_catalog":
        return f"{schema}.{name}"
    return name


class TypeMapper:
    def __init__(self, catalog: Catalog, options: Options, models_module: str) -> None:
        self._options = options
        self._models_module = models_module
        self._enums: dict[str, str] = {}
        for enum in catalog.enums:
            self._enums[enum.name.lower()] = enum_class_name(
                enum.schema, enum.name, catalog
            )
            self._enums[f"{enum.schema}.{enum.name}".lower()] = self._enums[
                enum.name.lower()
            ]

    def _base(self, column: Column, where: str) -> PyType:
        override = self._column_override(column) or self._options.type_overrides.get(
            _pg_name(column)
        )
        if override is not None:
            return _from_python_type(override)
        pg_name = _pg_name(column)
        enum = self._enums.get(pg_name) or self._enums.get(pg_name.rpartition(".")[2])
        if enum is not None:
            return PyType(enum, frozenset({(self._models_module, enum)}), convert=True)
        scalar = _SCALARS.get(pg_name)
        if scalar is None:
            shown = pg_name or "(no type: sqlc could not infer one; add a ::cast)"
            raise GenerateError(
                f"{where}: unsupported PostgreSQL type {shown!r}; cast it to a supported "
                "type or map it with an `overrides` entry (db_type or column)"
            )
        module, name = scalar
        return PyType(name, frozenset({(module, name)}) if module else frozenset())

    def _column_override(self, column: Column) -> PythonType | None:
        if column.table is None or not column.name:
            return None
        overrides = self._options.column_overrides
        key = f"{column.table.name}.{column.name}".lower()
        qualified = (
            f"{column.table.schema}.{key}".lower() if column.table.schema else ""
        )
        return overrides.get(qualified) or overrides.get(key)

    def annotate(
        self, column: Column, where: str, *, nullable: bool | None = None
    ) -> PyType:
        base = self._base(column, where)
        annotation = base.annotation
        for _ in range(column.array_dims):
            annotation = f"list[{annotation}]"
        is_nullable = (not column.not_null) if nullable is None else nullable
        if is_nullable and annotation != "None":
            annotation = f"{annotation} | None"
        return PyType(annotation, base.imports, base.convert)


def _from_python_type(target: PythonType) -> PyType:
    head = target.name.split(".")[0]
    imports: frozenset[Import] = (
        frozenset({(target.module, head)}) if target.module else frozenset()
    )
    return PyType(target.name, imports, convert=bool(target.module))


def table_class_name(schema: str, table: str, catalog: Catalog) -> str:
    from sqlc_gen_asyncpg.naming import pascal, singular

    stem = pascal(singular(table))
    if schema and schema != catalog.default_schema:
        return pascal(schema) + stem
    return stem


def enum_class_name(schema: str, name: str, catalog: Catalog) -> str:
    from sqlc_gen_asyncpg.naming import pascal

    stem = pascal(name)
    if schema and schema != catalog.default_schema:
        return pascal(schema) + stem
    return stem
