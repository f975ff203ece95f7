"""The build steps on requests made in memory, without sqlc or a database:
which model a result becomes, how names and parameters are chosen, the
no-row rule, and how problems are collected (one collector, every problem,
in the order found, the faulty query left out and the others kept)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlc_gen_asyncpg import plan
from sqlc_gen_asyncpg.build_models import (
    TableModels,
    build_enums,
    build_table_models,
)
from sqlc_gen_asyncpg.build_queries import ModuleScope, build_queries
from sqlc_gen_asyncpg.errors import GenerateError, Problems
from sqlc_gen_asyncpg.generate import generate
from sqlc_gen_asyncpg.naming import Namespace
from sqlc_gen_asyncpg.options import Options
from sqlc_gen_asyncpg.pytypes import PyType, TypeMapper
from sqlc_gen_asyncpg.request import (
    Catalog,
    Column,
    Enum,
    GenerateRequest,
    Identifier,
    Parameter,
    Query,
    Table,
)
from sqlc_gen_asyncpg.sqlfiles import declared_domains, file_header

PACKAGE = "gen"
USERS = Identifier("public", "users")


def column(
    name: str,
    pg_type: str,
    *,
    not_null: bool = True,
    table: Identifier | None = USERS,
    embed: Identifier | None = None,
    slice_: bool = False,
) -> Column:
    return Column(
        name=name,
        not_null=not_null,
        is_array=False,
        array_dims=0,
        type=Identifier("", pg_type),
        table=table,
        embed_table=embed,
        is_named_param=False,
        is_sqlc_slice=slice_,
    )


USER_COLUMNS = (
    column("id", "int8"),
    column("email", "text"),
    column("role", "role"),
    column("bio", "text", not_null=False),
)
CATALOG = Catalog(
    default_schema="public",
    tables=(Table("public", "users", USER_COLUMNS, "People.\nMore."),),
    enums=(Enum("public", "role", ("admin", "in-review"), ""),),
)


def query(
    name: str,
    cmd: str,
    text: str,
    columns: tuple[Column, ...] = (),
    params: tuple[Column, ...] = (),
    *,
    filename: str = "users.sql",
    comments: tuple[str, ...] = (),
    insert_into: Identifier | None = None,
) -> Query:
    return Query(
        name=name,
        cmd=cmd,
        text=text,
        filename=filename,
        columns=columns,
        params=tuple(Parameter(i, c) for i, c in enumerate(params, 1)),
        comments=comments,
        insert_into_table=insert_into,
    )


def request(*queries: Query, catalog: Catalog = CATALOG) -> GenerateRequest:
    return GenerateRequest(
        catalog=catalog,
        queries=queries,
        sqlc_version="v1.30.0",
        options={"package": PACKAGE},
        query_paths=(),
    )


def build(*queries: Query) -> tuple[list[plan.QueryModule], Problems, TableModels]:
    """The query modules of `queries` over CATALOG, and what was reported."""
    req = request(*queries)
    options = Options.parse(req.options, PACKAGE)
    types = TypeMapper(req.catalog, options, f"{PACKAGE}.models")
    problems = Problems()
    names = Namespace("models.py")
    build_enums(req.catalog, names, problems)
    tables = build_table_models(
        req.catalog, types, f"{PACKAGE}.models", names, problems
    )
    return build_queries(req, options, types, tables, problems), problems, tables


def reported(problems: Problems) -> list[str]:
    with pytest.raises(GenerateError) as caught:
        problems.raise_if_any()
    return list(caught.value.problems)


def the_query(*queries: Query) -> plan.Query:
    modules, problems, _ = build(*queries)
    problems.raise_if_any()
    return modules[0].queries[0]


# ------------------------------------------------------------------ models
def test_table_and_enum_models() -> None:
    problems = Problems()
    types = TypeMapper(CATALOG, Options.parse({}, PACKAGE), f"{PACKAGE}.models")
    names = Namespace("models.py")
    enums = build_enums(CATALOG, names, problems)
    tables = build_table_models(CATALOG, types, f"{PACKAGE}.models", names, problems)
    problems.raise_if_any()
    assert enums == (
        plan.Enum("Role", "", (("ADMIN", "admin"), ("IN_REVIEW", "in-review"))),
    )
    (user,) = tables.module(enums).models
    assert (user.name, user.doc) == ("User", "People.")
    assert [(f.name, f.type.annotation, f.type.convert) for f in user.fields] == [
        ("id", "int", False),
        ("email", "str", False),
        ("role", "Role", True),
        ("bio", "str | None", False),
    ]


def test_a_table_with_an_unknown_type_has_no_model_and_no_problem() -> None:
    catalog = Catalog(
        "public",
        (Table("public", "spots", (column("at", "pair", table=None),), ""),),
        (),
        frozenset({("public", "pair")}),
    )
    problems = Problems()
    types = TypeMapper(catalog, Options.parse({}, PACKAGE), f"{PACKAGE}.models")
    tables = build_table_models(
        catalog, types, f"{PACKAGE}.models", Namespace("models.py"), problems
    )
    problems.raise_if_any()  # only a query that reads it fails
    assert tables.models == {}
    assert (
        "unsupported PostgreSQL type 'pair'" in tables.unmodelled[("public", "spots")]
    )


# ----------------------------------------------------------------- results
def test_a_result_with_a_tables_columns_is_its_model() -> None:
    q = the_query(query("GetUser", ":one", "SELECT * FROM users", USER_COLUMNS))
    assert isinstance(q.result, plan.ModelResult)
    assert (q.result.model.name, q.result.defined_here) == ("User", False)


def test_other_columns_make_a_row_model_with_one_sql_name_made_unique() -> None:
    columns = (column("id", "int8"), column("id", "int8"), column("email", "text"))
    q = the_query(query("Pairs", ":many", "SELECT a.id, b.id, a.email", columns))
    assert isinstance(q.result, plan.ModelResult)
    assert q.result.defined_here
    assert q.result.model.name == "PairsRow"
    assert [f.name for f in q.result.model.fields] == ["id", "id_2", "email"]


def test_one_column_is_its_value_and_an_enum_is_converted() -> None:
    q = the_query(query("Role", ":one", "SELECT role", (column("role", "role"),)))
    assert isinstance(q.result, plan.ScalarResult)
    assert q.result.annotation == "Role"
    assert q.result.adapter is not None
    assert q.result.adapter.name == "_ROLE"


def test_models_of_one_shape_share_one_converter() -> None:
    columns = (column("id", "int8"), column("email", "text"))
    (module,), problems, _ = build(
        query("A", ":many", "SELECT id, email", columns),
        query("B", ":many", "SELECT id, email", columns),
    )
    problems.raise_if_any()
    assert [(c.name, c.first_user) for c in module.converters] == [("_a_row", "a")]


def test_embed_is_the_tables_model() -> None:
    columns = (
        column("users", "", table=None, embed=USERS),
        column("n", "int8", table=None),
    )
    q = the_query(query("WithN", ":one", "SELECT sqlc.embed(users), 1 AS n", columns))
    assert isinstance(q.result, plan.ModelResult)
    embedded = q.result.model.fields[0]
    assert embedded.embed is not None
    assert embedded.embed.name == "User"
    assert embedded.type == PyType("User", frozenset({(f"{PACKAGE}.models", "User")}))


# -------------------------------------------------------------- parameters
def test_parameters_are_keyword_names_nullable_ones_optional() -> None:
    params = (
        column("email", "text"),
        column("conn", "text"),
        column("", "int4", table=None),
        column("bio", "text", not_null=False),
    )
    q = the_query(query("Find", ":exec", "SELECT 1", (), params))
    assert [(p.name, p.type.annotation, p.optional) for p in q.params] == [
        ("email", "str", False),
        ("conn_", "str", False),  # the generated function's own argument
        ("dollar_3", "int", False),
        ("bio", "str | None", True),
    ]


# ------------------------------------------------------------- no-row rule
@pytest.mark.parametrize(
    ("cmd", "text", "required", "returns"),
    [
        (":one", "INSERT INTO users (email) VALUES ($1) RETURNING id", True, "int"),
        (":one", "SELECT id FROM users WHERE email = $1", False, "int | None"),
        (
            ":batchone",
            "INSERT INTO users (email) VALUES ($1) RETURNING id",
            True,
            "list[int]",
        ),
        (
            ":batchone",
            "SELECT id FROM users WHERE email = $1",
            False,
            "list[int | None]",
        ),
        (":many", "SELECT count(*) FROM users", False, "list[int]"),
        (":batchmany", "SELECT id FROM users", False, "list[list[int]]"),
    ],
)
def test_the_no_row_rule_decides_the_return_type(
    cmd: str, text: str, required: bool, returns: str
) -> None:
    q = the_query(query("Q", cmd, text, (column("id", "int8"),)))
    assert q.row_required is required
    assert q.returns() == returns


@pytest.mark.parametrize(
    ("cmd", "returns"),
    [
        (":exec", "None"),
        (":execrows", "int"),
        (":execresult", "str"),
        (":batchexec", "None"),
    ],
)
def test_commands_without_rows(cmd: str, returns: str) -> None:
    q = the_query(query("Q", cmd, "DELETE FROM users", (), (column("id", "int8"),)))
    assert (q.row_required, q.row_type(), q.returns()) == (False, "None", returns)


def test_the_rendered_function_follows_the_plans_no_row_rule() -> None:
    files = generate(
        request(
            query(
                "Add",
                ":one",
                "INSERT INTO users (email) VALUES ($1) RETURNING *",
                USER_COLUMNS,
                (column("email", "text"),),
                comments=(" @into",),
            ),
            query("Get", ":one", "SELECT * FROM users WHERE id = $1", USER_COLUMNS),
        ),
        PACKAGE,
    )
    code = files["users.py"]
    assert "async def add(conn: Executor, *, email: str) -> User:\n" in code
    assert "-> ModelT:\n" in code  # add_into: the caller's model, no None
    assert code.count('raise NoRowReturned("Add")') == 2
    assert "async def get(conn: Executor) -> User | None:\n" in code
    assert "from gen import Executor, ModelT, NoRowReturned," in code


# ----------------------------------------------------------------- problems
def test_every_problem_in_the_order_found_and_the_others_kept() -> None:
    modules, problems, _ = build(
        query("Good", ":one", "SELECT id", (column("id", "int8"),)),
        query("Bad", ":wat", "SELECT 1"),
        query("Spot", ":one", "SELECT at", (column("at", "any", table=None),)),
        query("Nothing", ":one", "SELECT FROM users"),
        query(
            "Sliced",
            ":many",
            "SELECT id WHERE id IN (sqlc.slice(ids))",
            (column("id", "int8"),),
            (column("ids", "int8", slice_=True),),
        ),
        query("Into", ":exec", "DELETE FROM users", comments=(" @into",)),
        query("Good", ":one", "SELECT 1", filename="other.sql"),
        query(
            "Copy",
            ":copyfrom",
            "INSERT INTO users (id) SELECT 1",
            params=(column("id", "int8"),),
        ),
    )
    assert reported(problems) == [
        "other.sql: query 'Good' is also defined in users.sql; query names must "
        "be unique",
        "users.sql: query 'Bad': command ':wat' is not supported; use one of "
        ":batchexec, :batchmany, :batchone, :copyfrom, :exec, :execresult, "
        ":execrows, :many, :one",
        "users.sql: query 'Spot', column 'at': unsupported PostgreSQL type "
        "'any'; cast it to a supported type or map it with an `overrides` "
        "entry (db_type or column)",
        "users.sql: query 'Nothing': :one needs a statement that returns columns",
        "users.sql: query 'Sliced': sqlc.slice() becomes `IN ($n)`, which "
        "asyncpg cannot bind; use `= ANY(@name::type[])` instead",
        "users.sql: query 'Into': @into needs :one or :many",
        "users.sql: query 'Copy': :copyfrom needs `INSERT INTO table (columns) "
        "VALUES ($1, …)`",
    ]
    (module,) = modules
    assert [q.name for q in module.queries] == ["Good"]


def test_names_that_collide_are_reported_with_both_origins() -> None:
    _, problems, _ = build(
        query("GetUser", ":one", "SELECT 1", (column("a", "int8"),)),
        query("get_user", ":one", "SELECT 1", (column("a", "int8"),)),
        query(
            "Two",
            ":one",
            "SELECT 1",
            (column("a-b", "int8"), column("a_b", "int8")),
            (column("x", "int8"), column("X", "int8")),
        ),
    )
    assert reported(problems) == [
        "users.sql: query 'GetUser' and query 'get_user' both become the Python "
        "name 'get_user'; rename one of them (or alias it with AS)",
        "users.sql: query 'Two': parameter 'x' and parameter 'X' both become "
        "the Python name 'x'; rename one of them (or alias it with AS)",
        "users.sql: query 'Two': column 'a-b' and column 'a_b' both become the "
        "Python name 'a_b'; rename one of them (or alias it with AS)",
    ]


def test_a_reserved_module_name_is_refused() -> None:
    modules, problems, _ = build(query("A", ":exec", "SELECT 1", filename="models.sql"))
    assert modules == []
    assert reported(problems) == [
        "models.sql: the file would become module 'models', which the generated "
        "package keeps for itself; rename the file"
    ]


def test_the_collector() -> None:
    problems = Problems()
    problems.raise_if_any()  # nothing found: nothing raised
    mark = problems.checkpoint()
    problems.add(None, "a", None)
    assert problems.found_since(mark)
    mark = problems.checkpoint()

    def fails() -> int:
        raise GenerateError("b", "c")

    assert problems.attempt(fails, -1) == -1
    assert problems.attempt(lambda: 7, -1) == 7
    assert problems.found_since(mark)
    assert not problems.found_since(problems.checkpoint())
    assert reported(problems) == ["a", "b", "c"]


# --------------------------------------------------------------- the files
def test_a_query_files_header(tmp_path: Path) -> None:
    path = tmp_path / "q.sql"
    path.write_text("-- Users.\n--  indented\n\n-- name: A :one\nSELECT 1;\n")
    assert file_header(path) == ["Users.", " indented"]
    path.write_text("-- The first query's own.\n-- name: A :one\nSELECT 1;\n")
    assert file_header(path) == []
    assert file_header(tmp_path / "missing.sql") == []


def test_domains_declared_in_the_schema(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text(
        'CREATE DOMAIN app."Email" AS text;\ncreate domain posint AS int;\n'
    )
    (tmp_path / "b.txt").write_text("CREATE DOMAIN ignored AS int;\n")
    assert declared_domains((str(tmp_path),)) == {"email", "posint"}
    assert declared_domains((str(tmp_path / "missing.sql"),)) == frozenset()


def test_the_scope_holds_the_table_models_names() -> None:
    _, _, tables = build()
    scope = ModuleScope("users.sql", tables)
    assert scope.names.claim("User", "query 'User'") is not None
