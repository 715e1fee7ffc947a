"""The canonical intents and actions of the transcript format (transcript-format.md)."""

from __future__ import annotations

CANONICAL_INTENTS: tuple[str, ...] = (
    "greeting",
    "chitchat",
    "product_info",
    "size_advice",
    "stock",
    "price_promotion",
    "recommendation",
    "shipping_policy",
    "payment",
    "order_status",
    "logistics",
    "modify_address",
    "cancel_order",
    "refund",
    "return",
    "exchange",
    "complaint",
    "invoice",
    "human_agent",
    "confirm",
    "deny",
    "other",
)

CANONICAL_ACTIONS: tuple[str, ...] = (
    "order.query",
    "logistics.query",
    "order.cancel",
    "address.update",
    "refund.create",
    "return.create",
    "exchange.create",
    "ticket.create",
    "handoff",
)

# Intents whose reply is drafted from the shop's knowledge (products, rules, promotions).
DRAFTER_INTENTS: frozenset[str] = frozenset(
    {
        "product_info",
        "size_advice",
        "stock",
        "price_promotion",
        "recommendation",
        "shipping_policy",
        "payment",
        "invoice",
    }
)

# Intents the order flows act on (read an order, or propose a change that waits for a yes).
FLOW_INTENTS: frozenset[str] = frozenset(
    {"order_status", "logistics", "modify_address", "cancel_order", "refund", "return", "exchange"}
)

# Intents of a change to an order (each waits for the buyer's yes).
CHANGE_INTENTS: frozenset[str] = frozenset({"cancel_order", "refund", "return", "exchange", "modify_address"})

# What a buyer would call each topic, for a clarifying question (您是想A，还是B？).
ASK_PHRASES: dict[str, str] = {
    "product_info": "了解商品详情",
    "size_advice": "问尺码",
    "stock": "问有没有货",
    "price_promotion": "问价格和优惠",
    "recommendation": "让我推荐商品",
    "shipping_policy": "问发货和运费",
    "payment": "问付款的问题",
    "order_status": "查订单",
    "logistics": "查快递进度或催发货",
    "modify_address": "改收货地址",
    "cancel_order": "取消订单",
    "refund": "申请退款",
    "return": "退货",
    "exchange": "换货",
    "complaint": "反映问题",
    "invoice": "开发票",
    "human_agent": "找人工客服",
}
