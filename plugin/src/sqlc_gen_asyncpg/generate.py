"""GenerateRequest -> Python files: analyse everything first (planner.py),
report every problem at once, then render (render.py)."""

from __future__ import annotations

from sqlc_gen_asyncpg import render
from sqlc_gen_asyncpg.errors import GenerateError
from sqlc_gen_asyncpg.planner import Planner
from sqlc_gen_asyncpg.request import GenerateRequest


def generate(request: GenerateRequest, default_package: str) -> dict[str, str]:
    """File name -> contents; GenerateError lists every problem found."""
    planner = Planner(request, default_package)
    modules = planner.query_modules()
    if planner.problems:
        raise GenerateError(*planner.problems)
    package, version = planner.package, request.sqlc_version
    files = {"models.py": render.models_file(planner.models, package, version)}
    for module in modules:
        files[f"{module.module}.py"] = render.query_file(module, package, version)
    files["__init__.py"] = render.init_file(
        package, [module.module for module in modules], version
    )
    files["py.typed"] = ""
    return files
