"""The single-request workloads, every stack in turn within each round."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from bench import data
from bench.config import Sizes
from bench.database import Fixture
from bench.stacks import Stack
from bench.stacks.base import PAGE
from bench.timing import Op, rate

WORKLOADS: dict[str, str] = {
    "get": "get file by path (5 KB)",
    "put_unchanged": "put, content unchanged",
    "put_changed": "put, content changed",
    "cas_save": "agent state CAS save (10 KB)",
    "list_first": "list: first page of 100",
    "list_deep": "list: page of 100 at 90 %",
}


@dataclass
class Driver:
    """One stack's requests, with the little state they carry between calls."""

    stack: Stack
    fx: Fixture
    deep_start: str
    states: tuple[dict[str, Any], dict[str, Any]]
    version: int
    put_turn: int = field(default=0)  # which of the two contents goes next
    state_turn: int = field(default=0)

    @classmethod
    async def create(cls, stack: Stack, fx: Fixture, sizes: Sizes) -> Driver:
        states = (
            data.agent_state(1, sizes.state_bytes),
            data.agent_state(2, sizes.state_bytes),
        )
        return cls(
            stack,
            fx,
            await stack.deep_start(fx),
            states,
            await stack.state_version(fx),
        )

    def ops(self) -> dict[str, Op]:
        return {
            "get": self.get,
            "put_unchanged": self.put_unchanged,
            "put_changed": self.put_changed,
            "cas_save": self.cas_save,
            "list_first": self.list_first,
            "list_deep": self.list_deep,
        }

    async def get(self) -> None:
        assert await self.stack.get_file(self.fx, self.fx.get_path) > 0

    async def put_unchanged(self) -> None:
        fx = self.fx
        outcome = await self.stack.put(fx, fx.unchanged_path, fx.unchanged_content)
        assert outcome == "unchanged", outcome

    async def put_changed(self) -> None:
        self.put_turn ^= 1
        fx = self.fx
        content = fx.changed_contents[self.put_turn]
        outcome = await self.stack.put(fx, fx.changed_path, content)
        assert outcome == "updated", outcome

    async def cas_save(self) -> None:
        self.state_turn ^= 1
        state = self.states[self.state_turn]
        saved = await self.stack.save_state(self.fx, state, self.version)
        assert saved == self.version + 1
        self.version = saved

    async def list_first(self) -> None:
        assert await self.stack.list_page(self.fx, None) == PAGE

    async def list_deep(self) -> None:
        assert await self.stack.list_page(self.fx, self.deep_start) == PAGE


Samples = dict[str, dict[str, list[float]]]  # workload -> stack -> ops/s


async def run(
    stacks: dict[str, Stack], fixtures: dict[str, Fixture], sizes: Sizes
) -> Samples:
    drivers = {
        key: await Driver.create(stack, fixtures[key], sizes)
        for key, stack in stacks.items()
    }
    ops = {key: driver.ops() for key, driver in drivers.items()}
    for workload in WORKLOADS:  # warm-up: pools, statement caches, plans
        for key in stacks:
            await rate(ops[key][workload], sizes.warmup_ops)
    samples: Samples = {w: {key: [] for key in stacks} for w in WORKLOADS}
    for repeat in range(sizes.repeats):
        for workload in WORKLOADS:
            for key in stacks:  # a, b, c, d, a, b, …: noise hits all alike
                samples[workload][key].append(await rate(ops[key][workload], sizes.ops))
        print(f"  requests: round {repeat + 1}/{sizes.repeats} done", file=sys.stderr)
    return samples
