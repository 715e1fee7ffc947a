"""The after-sales workbench: what the shop's people do to orders, returns and tickets.

Every action is a legal transition of the Taobao states (transcript-format.md, "Time, staff
actions and unprompted messages") and nothing else, recorded with who and when, and
idempotent. :class:`~bot.workbench.service.WorkbenchService` performs them through the order
backend; :mod:`bot.workbench.items` lists what is waiting.
"""

from bot.workbench.actions import STAFF_ACTIONS, ActionOutcome, StaffAction, parse_action
from bot.workbench.service import WorkbenchService

__all__ = ["STAFF_ACTIONS", "ActionOutcome", "StaffAction", "WorkbenchService", "parse_action"]
