"""The issue's goals, checked against ratios measured in the same run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.timing import Stat


@dataclass(frozen=True)
class Goal:
    name: str
    at_least: bool  # True: ratio >= target; False: ratio <= target
    target: float
    ratio: Stat

    @property
    def met(self) -> bool:
        """Judged on the median of the per-round ratios."""
        return self._holds(self.ratio.median)

    @property
    def every_round(self) -> bool:
        worst = self.ratio.min if self.at_least else self.ratio.max
        return self._holds(worst)

    def _holds(self, value: float) -> bool:
        return value >= self.target if self.at_least else value <= self.target

    @property
    def target_text(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.target:g}x"

    @property
    def margin(self) -> float:
        """Median over target, oriented so that ≥ 1 means met."""
        median = self.ratio.median
        return median / self.target if self.at_least else self.target / median

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Goal:
        """The inverse of as_dict (a summary JSON read back)."""
        target = str(data["target"])
        at_least = target.startswith("≥")
        return cls(data["name"], at_least, float(target[2:-1]), Stat(**data["ratio"]))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.target_text,
            "ratio": self.ratio.as_dict(),
            "met": self.met,
            "every_round": self.every_round,
        }
