"""uow.retention: what a project's history and checkpoints keep, and
reclaiming the content nothing names any more.

Both hold the project lock exclusively: writers of the project wait for
the few statements, and none of them is between a version being judged
unneeded, or content unnamed, and its removal. So pruning is safe while
writers run, and content a version or a checkpoint still names is never
reclaimed (the foreign keys from file_versions would refuse it anyway)."""

from __future__ import annotations

from uuid import UUID

from repositories import validation
from repositories._generated import Executor
from repositories._generated import retention as queries
from repositories._guard import Guard, one_call_at_a_time
from repositories._project_lock import ProjectLock
from repositories._translate import translated
from repositories.errors import InvalidInput
from repositories.models import PruneResult, RetentionPolicy

PROJECT = "project"
_DEFAULT_POLICY = RetentionPolicy()


class RetentionRepository:
    """`uow.retention`: pruning a project's history and checkpoints by a
    RetentionPolicy, and reclaiming unnamed content."""

    def __init__(self, conn: Executor, actor: UUID, guard: Guard) -> None:
        self._conn = conn
        self._actor = actor
        self._guard = guard
        self._lock = ProjectLock(conn, actor, guard)

    @one_call_at_a_time
    async def prune(
        self, project_id: UUID, policy: RetentionPolicy = _DEFAULT_POLICY
    ) -> PruneResult:
        """Remove the checkpoints, file versions and agent-state versions
        `policy` does not keep (current versions and those a remaining
        checkpoint needs are always kept), then the content no version names."""
        project_id = validation.identifier(project_id, "project_id")
        if not isinstance(policy, RetentionPolicy):
            raise InvalidInput("policy", "must be a RetentionPolicy")
        await self._lock.hold(project_id, whole_project=True)
        with translated(PROJECT):
            checkpoints = 0
            if policy.keep_checkpoints is not None:
                checkpoints = await queries.prune_checkpoints(
                    self._conn,
                    project_id=project_id,
                    owner_id=self._actor,
                    keep_for=policy.keep_checkpoints_for,
                    keep_checkpoints=policy.keep_checkpoints,
                )
            versions = await queries.prune_file_versions(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                keep_versions=policy.keep_versions,
                keep_for=policy.keep_for,
            )
            states = await queries.prune_agent_state_versions(
                self._conn,
                project_id=project_id,
                owner_id=self._actor,
                keep_versions=policy.keep_versions,
                keep_for=policy.keep_for,
            )
            reclaimed = await self._reclaim(project_id)
        return PruneResult(
            versions_removed=versions,
            agent_state_versions_removed=states,
            checkpoints_removed=checkpoints,
            contents_reclaimed=reclaimed.contents,
            bytes_reclaimed=reclaimed.reclaimed_bytes,
        )

    @one_call_at_a_time
    async def reclaim(self, project_id: UUID) -> PruneResult:
        """Remove the content of the project no version names any more."""
        project_id = validation.identifier(project_id, "project_id")
        await self._lock.hold(project_id, whole_project=True)
        with translated(PROJECT):
            reclaimed = await self._reclaim(project_id)
        return PruneResult(
            versions_removed=0,
            agent_state_versions_removed=0,
            checkpoints_removed=0,
            contents_reclaimed=reclaimed.contents,
            bytes_reclaimed=reclaimed.reclaimed_bytes,
        )

    async def _reclaim(self, project_id: UUID) -> queries.ReclaimContentsRow:
        reclaimed = await queries.reclaim_contents(
            self._conn, project_id=project_id, owner_id=self._actor
        )
        # An aggregate over no row is still one row.
        assert reclaimed is not None
        return reclaimed
