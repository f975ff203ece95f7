"""PostgreSQL types to Python annotations: what asyncpg decodes each into."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlc_gen_asyncpg.errors import GenerateError
from sqlc_gen_asyncpg.naming import pascal
from sqlc_gen_asyncpg.options import Options, PythonType
from sqlc_gen_asyncpg.request import SYSTEM_SCHEMAS, Catalog, Column

# (module, name) pairs; module "" is a builtin.
Import = tuple[str, str]


@dataclass(frozen=True)
class PyType:
    """An annotation and the names it needs imported.

    `convert`: asyncpg does not hand the value back as this type (enums come
    as str, overrides as plain data), so rows convert it. `arbitrary`: a class
    pydantic has no schema for (asyncpg's Range, Point, ...), so a model
    holding it allows arbitrary types.
    """

    annotation: str
    imports: frozenset[Import] = field(default_factory=frozenset)
    convert: bool = False
    arbitrary: bool = False


def _t(annotation: str, *imports: Import, arbitrary: bool = False) -> PyType:
    return PyType(annotation, frozenset(imports), arbitrary=arbitrary)


_INT = _t("int")
_STR = _t("str")
_FLOAT = _t("float")
_DECIMAL = _t("Decimal", ("decimal", "Decimal"))
_DATETIME = _t("datetime", ("datetime", "datetime"))
_DATE = _t("date", ("datetime", "date"))
_RANGE = ("asyncpg", "Range")


def _geometry(name: str) -> PyType:
    return _t(name, ("asyncpg", name), arbitrary=True)


def _range(inner: PyType) -> PyType:
    return PyType(
        f"Range[{inner.annotation}]", inner.imports | {_RANGE}, arbitrary=True
    )


def _multirange(inner: PyType) -> PyType:
    one = _range(inner)
    return PyType(f"list[{one.annotation}]", one.imports, arbitrary=True)


def _names(pytype: PyType, *pg_names: str) -> dict[str, PyType]:
    return dict.fromkeys(pg_names, pytype)


# Every built-in type asyncpg decodes (asyncpg/protocol/codecs), by the names
# sqlc gives them. Types sent as text by asyncpg map to str.
SCALARS: dict[str, PyType] = {
    **_names(_INT, "int2", "smallint", "int4", "integer", "int", "int8", "bigint"),
    **_names(_INT, "serial", "serial4", "bigserial", "serial8", "smallserial"),
    **_names(_INT, "serial2", "oid", "xid", "xid8", "cid", "pg_lsn"),
    **_names(_DECIMAL, "numeric", "decimal"),
    **_names(_FLOAT, "float4", "real", "float8", "double precision", "float"),
    **_names(_t("bool"), "bool", "boolean"),
    **_names(_STR, "text", "varchar", "character varying", "bpchar", "character"),
    **_names(_STR, "citext", "name", "xml", "tsvector", "tsquery", "jsonpath"),
    **_names(_STR, "macaddr", "macaddr8", "money", "refcursor", "aclitem"),
    **_names(_STR, "regclass", "regtype", "regproc", "regprocedure", "regoper"),
    **_names(_STR, "regoperator", "regconfig", "regdictionary", "regnamespace"),
    **_names(_STR, "regrole", "regcollation"),
    # The one-byte internal type "char"; char(n) reaches us as bpchar.
    "char": _t("bytes"),
    "bytea": _t("bytes"),
    "uuid": _t("UUID", ("uuid", "UUID")),
    **_names(_DATETIME, "timestamptz", "timestamp with time zone"),
    **_names(_DATETIME, "timestamp", "timestamp without time zone"),
    "date": _DATE,
    **_names(_t("time", ("datetime", "time")), "time", "time without time zone"),
    **_names(_t("time", ("datetime", "time")), "timetz", "time with time zone"),
    "interval": _t("timedelta", ("datetime", "timedelta")),
    **_names(_t("JsonValue", ("pydantic", "JsonValue")), "json", "jsonb"),
    "inet": _t(
        "IPv4Address | IPv6Address | IPv4Interface | IPv6Interface",
        ("ipaddress", "IPv4Address"),
        ("ipaddress", "IPv6Address"),
        ("ipaddress", "IPv4Interface"),
        ("ipaddress", "IPv6Interface"),
    ),
    "cidr": _t(
        "IPv4Network | IPv6Network",
        ("ipaddress", "IPv4Network"),
        ("ipaddress", "IPv6Network"),
    ),
    **_names(_geometry("BitString"), "bit", "varbit", "bit varying"),
    "point": _geometry("Point"),
    "line": _geometry("Line"),
    "lseg": _geometry("LineSegment"),
    "box": _geometry("Box"),
    "path": _geometry("Path"),
    "polygon": _geometry("Polygon"),
    "circle": _geometry("Circle"),
    **_names(_range(_INT), "int4range", "int8range"),
    "numrange": _range(_DECIMAL),
    **_names(_range(_DATETIME), "tsrange", "tstzrange"),
    "daterange": _range(_DATE),
    **_names(_multirange(_INT), "int4multirange", "int8multirange"),
    "nummultirange": _multirange(_DECIMAL),
    **_names(_multirange(_DATETIME), "tsmultirange", "tstzmultirange"),
    "datemultirange": _multirange(_DATE),
    "tid": _t("tuple[int, int]"),
    **_names(_t("tuple[int, int, tuple[int, ...]]"), "txid_snapshot", "pg_snapshot"),
    "void": _t("None"),
}


# Types asyncpg encodes as text only: its binary COPY cannot send them.
TEXT_ONLY = frozenset(
    {
        "macaddr",
        "macaddr8",
        "money",
        "tsvector",
        "tsquery",
        "refcursor",
        "aclitem",
        *(name for name in SCALARS if name.startswith("reg")),
    }
)


# The other names of types in pg_catalog and information_schema, those no
# entry of SCALARS maps: pseudo-types (sqlc's `any` among them), internal
# types and the SQL standard's domains. sqlc hands them over without a
# schema, as it does an extension's types, so only the name tells them
# apart. From PostgreSQL 18: SELECT typname FROM pg_type JOIN pg_namespace
# ON pg_namespace.oid = typnamespace WHERE nspname IN ('pg_catalog',
# 'information_schema') AND typtype IN ('b', 'p', 'r', 'm', 'd') AND typname
# !~ '^_' (array types, `_int4`, are named with a leading `_`).
SYSTEM_TYPES = frozenset(
    {
        *("any", "anyarray", "anycompatible", "anycompatiblearray"),
        *("anycompatiblemultirange", "anycompatiblenonarray", "anycompatiblerange"),
        *("anyelement", "anyenum", "anymultirange", "anynonarray", "anyrange"),
        *("cardinal_number", "character_data", "sql_identifier", "time_stamp"),
        *("yes_or_no", "cstring", "event_trigger", "fdw_handler", "gtsvector"),
        *("index_am_handler", "int2vector", "internal", "language_handler"),
        *("oidvector", "pg_brin_bloom_summary", "pg_brin_minmax_multi_summary"),
        *("pg_ddl_command", "pg_dependencies", "pg_mcv_list", "pg_ndistinct"),
        *("pg_node_tree", "record", "table_am_handler", "trigger", "tsm_handler"),
        "unknown",
    }
)


def type_identity(column: Column) -> tuple[str, str]:
    """(schema, name) of the column's type, lower-cased; the schema is ""
    when sqlc gives none. sqlc sometimes puts the schema into the name
    itself (`pg_catalog.int4` on parameters)."""
    schema, _, name = column.type.name.lower().rpartition(".")
    return schema or column.type.schema.lower(), name


def pg_name(column: Column) -> str:
    """`int4`, or `schema.name` outside pg_catalog."""
    schema, name = type_identity(column)
    if schema and schema != "pg_catalog":
        return f"{schema}.{name}"
    return name


def qualified_class_name(schema: str, stem: str, catalog: Catalog) -> str:
    """A class name, prefixed with its schema outside the default one."""
    if schema and schema != catalog.default_schema:
        return pascal(schema) + stem
    return stem


class TypeMapper:
    def __init__(
        self,
        catalog: Catalog,
        options: Options,
        models_module: str,
        domains: frozenset[str] = frozenset(),
    ) -> None:
        """`domains`: lower-cased names (without schema) of the domains the
        schema files declare, which sqlc's catalog does not hold."""
        self._options = options
        self._models_module = models_module
        self._row_types = catalog.row_types
        self._row_type_names = frozenset(name for _, name in catalog.row_types)
        self._domains = domains
        self._enums: dict[str, str] = {}
        for enum in catalog.enums:
            name = qualified_class_name(enum.schema, pascal(enum.name), catalog)
            self._enums.setdefault(enum.name.lower(), name)
            self._enums[f"{enum.schema}.{enum.name}".lower()] = name

    def _enum(self, name: str) -> str | None:
        return self._enums.get(name) or self._enums.get(name.rpartition(".")[2])

    def _base(self, column: Column, where: str) -> PyType:
        name = pg_name(column)
        override = self._column_override(column) or self._options.type_overrides.get(
            name
        )
        if override is not None:
            return _from_python_type(override)
        enum = self._enum(name)
        if enum is not None:
            return PyType(enum, frozenset({(self._models_module, enum)}), convert=True)
        scalar = SCALARS.get(name)
        if scalar is not None:
            return scalar
        if self.is_extension_type(column):
            return _STR
        shown = name or "(no type: sqlc could not infer one; add a ::cast)"
        domain = (
            " (a domain: asyncpg decodes it as its base type, which sqlc does not "
            "report)"
            if type_identity(column)[1] in self._domains
            else ""
        )
        raise GenerateError(
            f"{where}: unsupported PostgreSQL type {shown!r}{domain}; cast it to a "
            "supported type or map it with an `overrides` entry (db_type or column)"
        )

    def is_extension_type(self, column: Column) -> bool:
        """A type an extension brings (`ltree`, `hstore`, `cube`, …): a named
        type outside PostgreSQL's own schemas that is no built-in, enum,
        composite or table type and no domain of the schema files. sqlc
        knows no more of it than its name; asyncpg has no codec for it and
        falls back to the type's text form, so it decodes a value as `str`
        and encodes a `str` (binary COPY cannot carry it: see TEXT_ONLY).
        A composite or table type would decode as a Record and a domain as
        its base type, so those stay refused; so does a name PostgreSQL
        itself gives a type it has (pseudo-types such as `any`, array types
        named `_int4`)."""
        schema, name = type_identity(column)
        if not name or name in SCALARS or self._enum(pg_name(column)) is not None:
            return False
        if schema in SYSTEM_SCHEMAS or name in self._domains:
            return False
        if schema:
            return (schema, name) not in self._row_types
        return (
            name not in SYSTEM_TYPES
            and not name.startswith("_")
            and name not in self._row_type_names
        )

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
        return PyType(annotation, base.imports, base.convert, base.arbitrary)


def _from_python_type(target: PythonType) -> PyType:
    head = target.name.split(".")[0]
    imports: frozenset[Import] = (
        frozenset({(target.module, head)}) if target.module else frozenset()
    )
    return PyType(target.name, imports, convert=bool(target.module))
