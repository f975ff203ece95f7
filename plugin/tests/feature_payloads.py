"""The pydantic model the `docs.meta` override maps to in test_features.py."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Meta(BaseModel):
    model_config = ConfigDict(frozen=True)

    author: str
    pages: int
    keywords: list[str]
