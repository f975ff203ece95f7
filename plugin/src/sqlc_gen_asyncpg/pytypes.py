"""PostgreSQL types to Python annotations: what asyncpg decodes each into."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlc_gen_asyncpg.errors import GenerateError
from sqlc_gen_asyncpg.naming import pascal
from sqlc_gen_asyncpg.options import Options, PythonType
from sqlc_gen_asyncpg.request import Catalog, Column

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


def pg_name(column: Column) -> str:
    """`int4`, or `schema.name` outside pg_catalog. sqlc sometimes puts the
    schema into the name itself (`pg_catalog.int4` on parameters)."""
    schema, _, name = column.type.name.lower().rpartition(".")
    schema = schema or column.type.schema.lower()
    if schema and schema != "pg_catalog":
        return f"{schema}.{name}"
    return name


def qualified_class_name(schema: str, stem: str, catalog: Catalog) -> str:
    """A class name, prefixed with its schema outside the default one."""
    if schema and schema != catalog.default_schema:
        return pascal(schema) + stem
    return stem


class TypeMapper:
    def __init__(self, catalog: Catalog, options: Options, models_module: str) -> None:
        self._options = options
        self._models_module = models_module
        self._enums: dict[str, str] = {}
        for enum in catalog.enums:
            name = qualified_class_name(enum.schema, pascal(enum.name), catalog)
            self._enums.setdefault(enum.name.lower(), name)
            self._enums[f"{enum.schema}.{enum.name}".lower()] = name

    def _base(self, column: Column, where: str) -> PyType:
        name = pg_name(column)
        override = self._column_override(column) or self._options.type_overrides.get(
            name
        )
        if override is not None:
            return _from_python_type(override)
        enum = self._enums.get(name) or self._enums.get(name.rpartition(".")[2])
        if enum is not None:
            return PyType(enum, frozenset({(self._models_module, enum)}), convert=True)
        scalar = SCALARS.get(name)
        if scalar is None:
            shown = name or "(no type: sqlc could not infer one; add a ::cast)"
            raise GenerateError(
                f"{where}: unsupported PostgreSQL type {shown!r}; cast it to a supported "
                "type or map it with an `overrides` entry (db_type or column)"
            )
        return scalar

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
