"""The staff actions of the workbench as typed requests, and what an action came to.

One parser for both the API body and a transcript's ``staff:`` turn: :func:`parse_action`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from pydantic_core import PydanticCustomError

Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\u0000]*$")]
TrackingNo = Annotated[str, Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
RecordId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


def _no_nul(schema: dict[str, Any]) -> None:
    """Every text field of the schema says it takes no NUL, as the API's bodies do."""
    for prop in schema.get("properties", {}).values():
        for branch in [prop, *prop.get("anyOf", [])]:
            if branch.get("type") == "string" and "pattern" not in branch and "format" not in branch:
                branch["pattern"] = "^[^\\u0000]*$"


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_no_nul)

    tid: Annotated[RecordId, Field(description="订单号")]

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                raise PydanticCustomError("blank", "不能只有空白")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise PydanticCustomError("text_unstorable", "含有无法保存的字符") from None
        return value


class OrderShip(_Action):
    """发货：待发货的订单 → 已发货。"""

    action: Literal["order.ship"]
    carrier: Text
    tracking_no: TrackingNo


class _OnRecord(_Action):
    refund_id: RecordId | None = Field(default=None, description="售后单号；订单只有一个相应的售后单时可省略")


class ReturnAgree(_OnRecord):
    """同意售后：退货退款和换货 → 等待买家退货；仅退款 → 退款成功。"""

    action: Literal["return.agree"]


class ReturnRefuse(_OnRecord):
    """拒绝售后申请（写明原因）。"""

    action: Literal["return.refuse"]
    reason: Text


class ReturnReceived(_OnRecord):
    """仓库收到退回的商品。"""

    action: Literal["return.received"]


class RefundComplete(_OnRecord):
    """退货退款：收到退货后退款。"""

    action: Literal["refund.complete"]


class ExchangeShip(_OnRecord):
    """换货：收到退回的商品后发出新商品。"""

    action: Literal["exchange.ship"]
    carrier: Text
    tracking_no: TrackingNo


class TicketClose(_Action):
    """关闭订单的待办工单（写明处理结果）。"""

    action: Literal["ticket.close"]
    note: Text
    ticket_id: RecordId | None = Field(default=None, description="工单号；省略时为该订单最早的待办工单")


StaffAction = Annotated[
    Union[OrderShip, ReturnAgree, ReturnRefuse, ReturnReceived, RefundComplete, ExchangeShip, TicketClose],
    Field(discriminator="action"),
]
# The same actions for a request body: its schema is an anyOf of the action models.
StaffActionBody = Union[OrderShip, ReturnAgree, ReturnRefuse, ReturnReceived, RefundComplete, ExchangeShip, TicketClose]
STAFF_ACTIONS: tuple[str, ...] = (
    "order.ship", "return.agree", "return.refuse", "return.received", "refund.complete",
    "exchange.ship", "ticket.close",
)
ACTION_TEXT = {
    "order.ship": "发货",
    "return.agree": "同意售后",
    "return.refuse": "拒绝售后",
    "return.received": "确认收到退货",
    "refund.complete": "退款",
    "exchange.ship": "换货发出",
    "ticket.close": "关闭工单",
}
_ADAPTER: TypeAdapter[Any] = TypeAdapter(StaffAction)


def parse_action(data: Any) -> OrderShip | ReturnAgree | ReturnRefuse | ReturnReceived | RefundComplete | ExchangeShip | TicketClose:
    """A staff action from a mapping; :class:`pydantic.ValidationError` when it is not one."""
    return _ADAPTER.validate_python(data)  # type: ignore[no-any-return]


class ActionDetail(BaseModel):
    """What a notice to the buyer needs to know about a done action."""

    refund_type: str | None = None
    to_status: str | None = None
    amount: Decimal | None = None
    exchange_sku: str | None = None
    carrier: str | None = None
    tracking_no: str | None = None
    reason: str | None = None
    note: str | None = None


class ActionOutcome(BaseModel):
    """One staff action as recorded: done, or refused with the reason (nothing changed)."""

    id: str
    action: str
    tid: str
    target: str | None = Field(default=None, description="the after-sale record or ticket acted on")
    buyer_id: str | None = None
    status: Literal["done", "refused"]
    message: str = Field(description="what happened, in Chinese, for the staff member")
    staff: str
    at: datetime
    request_key: str | None = None
    detail: ActionDetail = Field(default_factory=ActionDetail)

    @property
    def done(self) -> bool:
        return self.status == "done"
