"""Typed repositories over the generated queries: the API routes import.

store = await Store.open(dsn)
user = await store.users.create(email="a@example.com", name="Ada")
async with store.unit_of_work(user.id) as uow:
    project = await uow.projects.create("demo")
    await uow.files.put(project.id, "src/main.py", "print('hi')\\n")
"""

from repositories.errors import (
    ConcurrentCalls,
    Conflict,
    Contention,
    EmailTaken,
    InvalidInput,
    NestedUnitOfWork,
    NotFound,
    PathTaken,
    PoolExhausted,
    PrivilegedLogin,
    RepositoryError,
    Timeout,
    Unavailable,
    UnitOfWorkMisuse,
    Unreadable,
    UnsafeLoginSettings,
    VersionConflict,
)
from repositories.models import (
    UNSET,
    AgentState,
    Checkpoint,
    CheckpointDiff,
    FileEntry,
    FileVersion,
    FileWrite,
    Page,
    PoolStats,
    Project,
    ProjectFile,
    PruneResult,
    RestoreResult,
    RetentionPolicy,
    StoreStats,
    SyncResult,
    User,
)
from repositories.store import Store
from repositories.unit_of_work import UnitOfWork

__all__ = [
    "UNSET",
    "AgentState",
    "Checkpoint",
    "CheckpointDiff",
    "ConcurrentCalls",
    "Conflict",
    "Contention",
    "EmailTaken",
    "FileEntry",
    "FileVersion",
    "FileWrite",
    "InvalidInput",
    "NestedUnitOfWork",
    "NotFound",
    "Page",
    "PathTaken",
    "PoolExhausted",
    "PoolStats",
    "PrivilegedLogin",
    "Project",
    "ProjectFile",
    "PruneResult",
    "RepositoryError",
    "RestoreResult",
    "RetentionPolicy",
    "Store",
    "StoreStats",
    "SyncResult",
    "Timeout",
    "Unavailable",
    "UnitOfWork",
    "UnitOfWorkMisuse",
    "Unreadable",
    "UnsafeLoginSettings",
    "User",
    "VersionConflict",
]
