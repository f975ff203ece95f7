"""Typed repositories over the generated queries: the API routes import.

store = await Store.open(dsn)
user = await store.users.create(email="a@example.com", name="Ada")
async with store.unit_of_work(user.id) as uow:
    project = await uow.projects.create("demo")
    await uow.files.put(project.id, "src/main.py", "print('hi')\\n")
"""

from repositories.errors import (
    Conflict,
    Contention,
    EmailTaken,
    InvalidInput,
    NotFound,
    PathTaken,
    PrivilegedLogin,
    RepositoryError,
    Unavailable,
    Unreadable,
    VersionConflict,
)
from repositories.models import (
    UNSET,
    AgentState,
    FileEntry,
    FileWrite,
    Page,
    Project,
    ProjectFile,
    SyncResult,
    User,
)
from repositories.store import Store
from repositories.unit_of_work import UnitOfWork

__all__ = [
    "UNSET",
    "AgentState",
    "Conflict",
    "Contention",
    "EmailTaken",
    "FileEntry",
    "FileWrite",
    "InvalidInput",
    "NotFound",
    "Page",
    "PathTaken",
    "PrivilegedLogin",
    "Project",
    "ProjectFile",
    "RepositoryError",
    "Store",
    "SyncResult",
    "Unavailable",
    "UnitOfWork",
    "Unreadable",
    "User",
    "VersionConflict",
]
