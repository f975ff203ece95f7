"""sqlc's catalog -> the plan of models.py, as sqlc's Go generator has
buildEnums and buildStructs: an enum class per enum (build_enums), a model
per table or view (build_table_models), one class namespace for both."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlc_gen_asyncpg import plan
from sqlc_gen_asyncpg.errors import GenerateError, Problems
from sqlc_gen_asyncpg.naming import (
    MODEL_ATTRIBUTES,
    Namespace,
    enum_member,
    field_name,
    pascal,
    singular,
)
from sqlc_gen_asyncpg.pytypes import Import, TypeMapper, qualified_class_name
from sqlc_gen_asyncpg.request import Catalog, Column, Table

TableKey = tuple[str, str]  # (schema, name)


@dataclass
class TableModels:
    """Each table's model, or why it has none; and the lookups queries
    make: a table by name, the table whose columns a result is."""

    catalog: Catalog
    models_module: str  # import path of the generated models.py
    models: dict[TableKey, plan.Model] = field(default_factory=dict)
    # Why each table without a model has none (a column without a Python
    # type or name): only the queries that use the table fail.
    unmodelled: dict[TableKey, str] = field(default_factory=dict)

    def find_table(self, schema: str, name: str) -> Table | None:
        schema = schema or self.catalog.default_schema
        for table in self.catalog.tables:
            if table.name == name and table.schema == schema:
                return table
        return None

    def exact_table(self, columns: tuple[Column, ...]) -> Table | None:
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

    def model_of(self, table: Table, where: str) -> plan.Model:
        """`table`'s model; GenerateError naming why it has none."""
        key = (table.schema, table.name)
        model = self.models.get(key)
        if model is None:
            reason = self.unmodelled.get(key, "")
            raise GenerateError(f"{where}: table {table.name} has no model: {reason}")
        return model

    def import_of(self, model: plan.Model) -> Import:
        return (self.models_module, model.name)

    def module(self, enums: tuple[plan.Enum, ...]) -> plan.ModelsModule:
        return plan.ModelsModule(
            enums, tuple(self.models.values()), tuple(self.unmodelled.values())
        )


def build_enums(
    catalog: Catalog, class_names: Namespace, problems: Problems
) -> tuple[plan.Enum, ...]:
    """An enum class per PostgreSQL enum, its members named by enum_member."""
    enums = []
    for enum in catalog.enums:
        name = qualified_class_name(enum.schema, pascal(enum.name), catalog)
        problems.add(class_names.claim(name, f"enum {enum.name!r}"))
        members = Namespace(f"models.py: enum {enum.name!r}")
        member_names = [enum_member(v, i) for i, v in enumerate(enum.values)]
        for member, value in zip(member_names, enum.values, strict=True):
            problems.add(members.claim(member, f"value {value!r}"))
        enums.append(
            plan.Enum(
                name,
                first_line(enum.comment),
                tuple(zip(member_names, enum.values, strict=True)),
            )
        )
    return tuple(enums)


def build_table_models(
    catalog: Catalog,
    types: TypeMapper,
    models_module: str,
    class_names: Namespace,
    problems: Problems,
) -> TableModels:
    """A model per table (and view) whose columns all have a Python type
    and name, named after the table in the singular."""
    tables = TableModels(catalog, models_module)
    for table in catalog.tables:
        stem = pascal(singular(table.name))
        name = qualified_class_name(table.schema, stem, catalog)
        problems.add(class_names.claim(name, f"table {table.name!r}"))
        fields = _table_fields(table, types, tables, problems)
        if fields is not None:
            tables.models[(table.schema, table.name)] = plan.Model(
                name, first_line(table.comment), fields
            )
    return tables


def _table_fields(
    table: Table, types: TypeMapper, tables: TableModels, problems: Problems
) -> tuple[plan.Field, ...] | None:
    """The table's fields; None (and the reason kept in tables.unmodelled)
    when a column has no Python type or no Python name, so that only the
    queries that need the model fail."""
    key = (table.schema, table.name)
    names = Namespace(f"models.py: table {table.name!r}")
    fields = []
    for position, column in enumerate(table.columns, 1):
        name = field_name(column.name, MODEL_ATTRIBUTES)
        if not name:
            # A view's `SELECT 1` column, which sqlc leaves unnamed.
            tables.unmodelled.setdefault(
                key,
                f"table {table.name}, column {position}: "
                + (
                    f"{column.name!r} has no letter or digit to make a Python name from"
                    if column.name
                    else "no name (an expression without AS in the view)"
                ),
            )
            continue
        problems.add(names.claim(name, f"column {column.name!r}"))
        try:
            pytype = types.annotate(column, f"table {table.name}, column {column.name}")
        except GenerateError as exc:
            # Not a problem of the run: the reason a query using it fails.
            tables.unmodelled.setdefault(key, str(exc))
            continue
        fields.append(plan.Field(name, pytype))
    if key in tables.unmodelled:
        return None
    return tuple(fields)


def first_line(comment: str) -> str:
    return comment.strip().splitlines()[0] if comment.strip() else ""
