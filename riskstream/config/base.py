"""Base model and shared field types of every configuration model."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Identifier = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$", description="lower-case id: a-z, 0-9, _ . -"),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
