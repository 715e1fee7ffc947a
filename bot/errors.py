"""The one exception hierarchy of xiaoer.

Three families tell the caller what to do:

* :class:`RetryModel` — the language model failed or produced something unusable; retry or
  fall back to the template drafter.
* :class:`TellCustomer` — the request cannot be served as asked; the message is safe to show
  the buyer (or the API client) as is.
* :class:`HandToHuman` — the bot must stop and pass the conversation to an agent.

``HTTPException`` lives only in ``bot/api``; everything else raises these.
"""

from __future__ import annotations


class XiaoerError(Exception):
    """Base of every error the project raises on purpose."""


class RetryModel(XiaoerError):
    """The model call failed, timed out or returned a draft that cannot be used."""


class TellCustomer(XiaoerError):
    """A user-facing refusal or validation error; ``str(self)`` is safe to show."""


class NotFound(TellCustomer):
    """The thing asked for does not exist (or is not the caller's to see)."""


class Conflict(TellCustomer):
    """The thing was already changed by someone else (e.g. a suggestion already decided)."""


class Forbidden(TellCustomer):
    """The caller may not do this."""


class HandToHuman(XiaoerError):
    """The conversation must go to a human agent."""


class ConfigError(XiaoerError):
    """Settings, prompts or a shop directory are invalid; raised at start-up."""


class ShopProblem:
    """One problem in a shop directory: where it is and what is wrong."""

    __slots__ = ("file", "where", "message")

    def __init__(self, file: str, where: str, message: str) -> None:
        self.file = file
        self.where = where
        self.message = message

    def __str__(self) -> str:
        loc = f"{self.file}:{self.where}" if self.where else self.file
        return f"{loc}: {self.message}"

    def __repr__(self) -> str:
        return f"ShopProblem({str(self)!r})"


class ShopInvalid(ConfigError):
    """A shop directory failed validation; ``problems`` lists every problem found."""

    def __init__(self, problems: list[ShopProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
