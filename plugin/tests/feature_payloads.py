"""The pydantic model the `docs.meta` override maps to in test_features.py."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Meta(BaseModel):
    model_config = ConfigDict(frozen=True)

    author: str
    pages: int
    keywords: list[str]


class OwnerLabel(BaseModel):
    """The caller's own model for OwnerLabels' rows (`-- @into`)."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    name_length: int


class OwnerCard(BaseModel):
    """The caller's own model for an owners row (GetOwner, `-- @into`)."""

    id: int
    name: str
