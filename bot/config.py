"""Settings: ``XIAOER_*`` environment variables plus the standard ``OPENAI_*`` ones."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shop_slug(shop_dir: Path) -> str:
    """A folder name for the shop's data: its directory's name, in safe characters."""
    name = re.sub(r"[^0-9A-Za-z_.-]+", "-", Path(shop_dir).resolve().name).strip("-.")
    return name or "shop"


class Settings(BaseSettings):
    """Every setting of the service. See the table in README.md."""

    model_config = SettingsConfigDict(env_prefix="XIAOER_", extra="ignore")

    shop_dir: Path = Field(default=PROJECT_ROOT / "knowledge", description="shop directory")
    data_dir: Path = Field(
        default=Path("var"),
        description="SQLite file and chroma index live here; unset = var/<shop folder name>, one per shop",
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default sqlite in data_dir")
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: SecretStr | None = Field(
        default=None,
        description="signs buyer and agent tokens; required (32+ characters) outside demo mode",
    )
    token_ttl_hours: int = Field(default=24, gt=0)
    demo: bool = Field(
        default=False,
        description="demo mode: a throwaway signing key when none is set, the demo agent, demo buyer login",
    )
    demo_login: bool = Field(
        default=True, description="in demo mode, list the shop's buyers on the chat page and log in as them"
    )
    rate_limits: bool = Field(default=True, description="false lifts every rate limit below")
    rate_limit_login: str = Field(default="5/minute", description="failed agent logins per username")
    rate_limit_login_ip: str = Field(default="20/minute", description="agent login attempts per client IP")
    rate_limit_demo_login: str = Field(default="30/minute", description="demo buyer logins per client IP")
    rate_limit_chat: str = Field(default="30/minute", description="chat messages per buyer")
    rate_limit_storage: str = Field(
        default="memory://", description="where the counters live: memory:// or a limits storage URL"
    )
    reply_mode: Literal["assist", "auto"] | None = Field(
        default=None, description="override shop.yaml reply_mode"
    )
    max_message_chars: int = Field(default=2000, gt=0)
    scheduler_interval_s: float = Field(
        default=15.0, gt=0, description="how often due scheduled work (reminders, notices, holds) runs"
    )
    outreach_daily_cap: int = Field(
        default=3, ge=0,
        description="unprompted messages of the shop's own (催付, 回访, care) per buyer per day; more wait a day",
    )
    max_body_bytes: int = Field(default=64_000, gt=0)

    # Scale-out: a shared database schema, Redis between processes, a chroma server.
    db_auto_upgrade: bool = Field(
        default=True, description="migrate the database at start-up; false = refuse until `xiaoer db upgrade`"
    )
    redis_url: str | None = Field(
        default=None, description="Redis for live events, SSE resume, rate limits and job leases; unset = in process"
    )
    event_retention: int = Field(
        default=10_000, gt=0, description="live events kept for consoles that reconnect (Last-Event-ID)"
    )
    chroma_url: str | None = Field(
        default=None, description="chroma server (chroma run), e.g. http://chroma:8000; unset = embedded"
    )
    workers: int = Field(default=1, gt=0, description="worker processes of `xiaoer serve`")
    turn_threads: int | None = Field(
        default=None, gt=0,
        description="threads for the stored steps of turns; unset = 1 on SQLite with no model configured "
        "(local work of a few ms, one writer at a time: more threads only contend for the interpreter), 8 otherwise",
    )
    shutdown_grace_s: float = Field(
        default=30.0, gt=0, description="how long a stopping server lets turns in flight finish"
    )

    # Language model (optional; the offline template drafter is used without it).
    llm_model: str | None = Field(default=None, description="chat model name; unset = offline drafter")
    llm_timeout_s: float = Field(default=20.0, gt=0)
    llm_max_retries: int = Field(default=1, ge=0)
    llm_concurrency: int = Field(
        default=8, gt=0, description="turns drafting with the model at once; more get the template draft"
    )
    llm_deadline_s: float = Field(
        default=30.0, gt=0, description="a turn's whole model drafting, regeneration included"
    )
    llm_max_tokens: int = Field(
        default=256, gt=0, description="longest chat reply the model may write, in tokens; a reply cut there is not used"
    )
    llm_intents: bool = Field(
        default=False,
        description="the model also reads the topic of a line the classifier is unsure of (never a yes or a no)",
    )
    llm_intent_timeout_s: float = Field(
        default=3.0, gt=0, description="how long a turn waits for the model's reading of its topic"
    )
    embedding_model: str | None = Field(
        default=None, description="OpenAI-compatible embedding model; unset = offline hashed embedder"
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "XIAOER_OPENAI_BASE_URL")
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "XIAOER_OPENAI_API_KEY")
    )

    @model_validator(mode="after")
    def _data_dir_per_shop(self) -> Settings:
        """Each shop keeps its own data unless XIAOER_DATA_DIR says otherwise, so serving a
        second shop never mixes its orders or persona into the demo's."""
        if "data_dir" not in self.model_fields_set:
            self.data_dir = Path("var") / shop_slug(self.shop_dir)
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'xiaoer.db').resolve()}"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"
