"""GenerateRequest -> Python files, in the steps of sqlc's own Go generator:
build everything first (build_enums and build_table_models in
build_models.py, build_queries in build_queries.py, into the plans of
plan.py), report every problem at once, then render (render.py)."""

from __future__ import annotations

from sqlc_gen_asyncpg import render
from sqlc_gen_asyncpg.build_models import build_enums, build_table_models
from sqlc_gen_asyncpg.build_queries import build_queries
from sqlc_gen_asyncpg.errors import Problems
from sqlc_gen_asyncpg.naming import Namespace
from sqlc_gen_asyncpg.options import Options
from sqlc_gen_asyncpg.pytypes import TypeMapper
from sqlc_gen_asyncpg.request import GenerateRequest
from sqlc_gen_asyncpg.sqlfiles import declared_domains


def generate(request: GenerateRequest, default_package: str) -> dict[str, str]:
    """File name -> contents; GenerateError lists every problem found (bad
    options alone, or else every other)."""
    options = Options.parse(request.options, default_package)
    package, version = options.package, request.sqlc_version
    models_module = f"{package}.models"
    types = TypeMapper(
        request.catalog,
        options,
        models_module,
        declared_domains(request.schema_paths),
    )
    problems = Problems()
    class_names = Namespace("models.py")
    enums = build_enums(request.catalog, class_names, problems)
    tables = build_table_models(
        request.catalog, types, models_module, class_names, problems
    )
    modules = build_queries(request, options, types, tables, problems)
    problems.raise_if_any()
    files = {"models.py": render.models_file(tables.module(enums), package, version)}
    for module in modules:
        files[f"{module.module}.py"] = render.query_file(module, package, version)
    files["__init__.py"] = render.init_file(
        package, [module.module for module in modules], version
    )
    files["py.typed"] = ""
    return files
