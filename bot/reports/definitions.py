"""What the reports count, read from ``data/definitions.yaml`` (see ``docs/reports.md``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot import yamlfiles
from bot.evaluation.vocabulary import canonical

DEFINITIONS_FILE = Path(__file__).parent / "data" / "definitions.yaml"


class Definitions(BaseModel):
    """The parameters of every figure; checked when built, so a typo fails at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    presales_intents: frozenset[str] = Field(min_length=1)
    conversion_window_hours: float = Field(gt=0)
    satisfied_min_rating: int = Field(ge=1, le=5)
    complaint_intents: frozenset[str] = Field(min_length=1)
    heavy_edit_ratio: float = Field(gt=0, le=1)
    slow_reply_seconds: float = Field(gt=0)

    @field_validator("presales_intents", "complaint_intents")
    @classmethod
    def _canonical(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(value - set(canonical().intents))
        if unknown:
            raise ValueError(f"not canonical intents: {', '.join(unknown)}")
        return value


def load_definitions(path: Path = DEFINITIONS_FILE) -> Definitions:
    return Definitions.model_validate(yamlfiles.read(path))
