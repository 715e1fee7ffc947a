"""Pydantic models of a shop directory (see shop-format.md).

Every model forbids unknown keys so that typos are caught. Money is ``Decimal``; datetimes
without an offset take the shop's timezone (passed in the validation context as ``tz``).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.money import to_fen


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=False)


def _money(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("money cannot be negative")
    if value != to_fen(value):
        raise ValueError("money has at most two decimals (分)")
    return to_fen(value)


def _localize(value: datetime, info: ValidationInfo) -> datetime:
    if value.tzinfo is None:
        tz = (info.context or {}).get("tz")
        if tz is None:
            raise ValueError("time needs an offset (no shop timezone known)")
        value = value.replace(tzinfo=tz)
    return value


Money = Annotated[Decimal, AfterValidator(_money)]
ShopTime = Annotated[datetime, AfterValidator(_localize)]
NonEmpty = Annotated[str, Field(min_length=1)]

# --- shop.yaml -----------------------------------------------------------------------------

_HOURS = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class Persona(Strict):
    name: NonEmpty
    address_term: NonEmpty = "亲"


class Policy(Strict):
    ship_within_hours: int = Field(gt=0)
    return_window_days: int = Field(ge=0)
    quality_window_days: int = Field(ge=0)
    auto_refund_unshipped: bool
    address_change: Literal["before_shipment", "before_payment", "never"]
    carriers: list[NonEmpty] = Field(min_length=1)
    free_shipping_threshold: Money | None = None
    no_free_shipping_regions: list[NonEmpty] = Field(default_factory=list)


class PaymentReminder(Strict):
    after_minutes: int = Field(default=30, gt=0)
    max_per_order: int = Field(default=1, ge=0)


class FollowUp(Strict):
    after_days_signed: int = Field(default=3, gt=0)


class Care(Strict):
    birthday: bool = True


class Outreach(Strict):
    """Messages the shop sends unprompted (催付, notices, 回访, care); the format's defaults."""

    payment_reminder: PaymentReminder = Field(default_factory=PaymentReminder)
    notices: bool = True
    follow_up: FollowUp = Field(default_factory=FollowUp)
    care: Care = Field(default_factory=Care)
    quiet_hours: NonEmpty = "22:00-08:00"

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        if not _HOURS.match(value.strip()):
            raise ValueError("quiet_hours must look like 22:00-08:00")
        return value.strip()


# The canonical intents of the transcript format: the keys of ``reply_policy.intents``.
PolicyIntent = Literal[
    "greeting", "chitchat", "product_info", "size_advice", "stock", "price_promotion",
    "recommendation", "shipping_policy", "payment", "order_status", "logistics",
    "modify_address", "cancel_order", "refund", "return", "exchange", "complaint", "invoice",
    "human_agent", "confirm", "deny", "other",
]


class IntentReply(Strict):
    """How the drafts of one intent go out: ``send`` at once when guard-clean and confident,
    or ``wait`` for an agent up to ``wait_s`` seconds."""

    send: Literal["send", "wait"] | None = None
    wait_s: int | None = Field(default=None, gt=0, le=86_400)


class ReplyPolicy(Strict):
    """Extension (optional ``reply_policy`` in shop.yaml): which drafts wait for an agent and
    for how long, so no buyer is left waiting (see docs/reply-policy.md).

    A waiting draft sends a short holding message after ``hold_s`` seconds when nothing has
    answered the buyer yet (Taobao 首响 is 30 s), and after ``wait_s`` seconds the guard-clean
    draft itself, or a handoff note when the draft failed a guard or was rejected."""

    hold_s: int = Field(default=10, gt=0, le=86_400)
    wait_s: int = Field(default=60, gt=0, le=86_400)
    intents: dict[PolicyIntent, IntentReply] = Field(default_factory=dict)

    def sends_at_once(self, intent: str, reply_mode: str) -> bool:
        rule = self.intents.get(intent)  # type: ignore[call-overload]
        if rule is not None and rule.send is not None:
            return rule.send == "send"
        return reply_mode == "auto"

    def wait_for(self, intent: str) -> int:
        rule = self.intents.get(intent)  # type: ignore[call-overload]
        return rule.wait_s if rule is not None and rule.wait_s is not None else self.wait_s


class ShopInfo(Strict):
    name: NonEmpty
    timezone: NonEmpty
    persona: Persona
    service_hours: NonEmpty
    policy: Policy
    outreach: Outreach = Field(default_factory=Outreach)
    # Extension (optional): "assist" = an agent approves every drafted reply; "auto" = drafts
    # that pass every guard are sent.
    reply_mode: Literal["assist", "auto"] = "assist"
    # Extension (optional): drafts that wait for an agent, for how long, what happens then.
    reply_policy: ReplyPolicy = Field(default_factory=ReplyPolicy)
    # Extension (optional): demo mode runs the shop's clock from this time at start-up, so
    # its promotions and orders stay current on any day.
    demo_now: ShopTime | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("service_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        if not _HOURS.match(value.strip()):
            raise ValueError("service_hours must look like 09:00-22:00")
        return value.strip()

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    def service_window(self) -> tuple[tuple[int, int], tuple[int, int]]:
        m = _HOURS.match(self.service_hours)
        assert m
        return (int(m[1]), int(m[2])), (int(m[3]), int(m[4]))


# --- products/*.yaml -----------------------------------------------------------------------


def _strs(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _scalar_str(v) for k, v in value.items()}
    return value


def _scalar_str(v: Any) -> Any:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, (int, float, Decimal)):
        return str(v)
    return v


class Sku(Strict):
    sku_id: NonEmpty
    props: dict[str, str] = Field(default_factory=dict)
    price: Money
    stock: int = Field(ge=0)

    _coerce_props = field_validator("props", mode="before")(classmethod(lambda cls, v: _strs(v)))

    def props_text(self) -> str:
        return " ".join(str(v) for v in self.props.values())


class SizeChart(Strict):
    columns: list[NonEmpty] = Field(min_length=1)
    rows: list[list[str]]

    @field_validator("rows", mode="before")
    @classmethod
    def _cells(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [[_scalar_str(c) for c in row] if isinstance(row, list) else row for row in value]
        return value

    @model_validator(mode="after")
    def _widths(self) -> SizeChart:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"rows[{i}] has {len(row)} cells but there are {len(self.columns)} columns"
                )
        return self


class QA(Strict):
    q: NonEmpty
    a: NonEmpty


class Product(Strict):
    id: NonEmpty
    title: NonEmpty
    category: NonEmpty
    price: Money
    skus: list[Sku] = Field(min_length=1)
    attributes: dict[str, str] = Field(default_factory=dict)
    selling_points: list[NonEmpty] = Field(default_factory=list)
    usage: str | None = None
    care: str | None = None
    size_chart: SizeChart | None = None
    faq: list[QA] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    no_reason_return: bool

    _coerce_attrs = field_validator("attributes", mode="before")(
        classmethod(lambda cls, v: _strs(v))
    )

    @model_validator(mode="after")
    def _unique_skus(self) -> Product:
        seen: set[str] = set()
        for sku in self.skus:
            if sku.sku_id in seen:
                raise ValueError(f"sku_id {sku.sku_id} appears twice")
            seen.add(sku.sku_id)
        return self

    _by_sku: dict[str, Sku] | None = PrivateAttr(default=None)

    def sku(self, sku_id: str) -> Sku | None:
        index = self._by_sku
        if index is None or len(index) != len(self.skus):
            index = self._by_sku = {s.sku_id: s for s in self.skus}
        return index.get(sku_id)

    @property
    def in_stock(self) -> bool:
        return any(s.stock > 0 for s in self.skus)


# --- promotions.yaml -----------------------------------------------------------------------


class Scope(Strict):
    products: list[str] | None = None
    categories: list[str] | None = None
    all: bool | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Scope:
        given = [k for k in ("products", "categories", "all") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("scope needs exactly one of products, categories or all")
        if self.all is False:
            raise ValueError("scope all: false matches nothing; use products or categories")
        return self

    def covers(self, product: Product) -> bool:
        if self.all:
            return True
        if self.products is not None:
            return product.id in self.products
        return product.category in (self.categories or [])


class _Promo(Strict):
    id: NonEmpty
    title: NonEmpty
    scope: Scope
    start: ShopTime
    end: ShopTime
    description: str | None = None  # extension (optional): shown to buyers

    @model_validator(mode="after")
    def _window(self) -> _Promo:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self

    def valid_at(self, now: datetime) -> bool:
        return self.start <= now <= self.end


Rate = Annotated[Decimal, Field(gt=0, le=1)]


class Discount(_Promo):
    type: Literal["discount"]
    rate: Rate


class NthDiscount(_Promo):
    type: Literal["nth_discount"]
    n: int = Field(ge=2)
    rate: Annotated[Decimal, Field(ge=0, le=1)]


class Tier(Strict):
    threshold: Money
    amount: Money


class FullReduction(_Promo):
    type: Literal["full_reduction"]
    tiers: list[Tier] = Field(min_length=1)


class Coupon(_Promo):
    type: Literal["coupon"]
    threshold: Money
    amount: Money
    how_to_get: str | None = None
    # Extension (optional): false = only buyers who hold it (orders.yaml buyers[].coupons).
    claimable: bool = True


class Gift(_Promo):
    type: Literal["gift"]
    threshold: Money
    gift: NonEmpty


Promotion = Annotated[
    Union[Discount, NthDiscount, FullReduction, Coupon, Gift], Field(discriminator="type")
]


# --- faq.yaml ------------------------------------------------------------------------------


class FaqEntry(Strict):
    q: NonEmpty
    a: NonEmpty
    tags: list[str] = Field(default_factory=list)


# --- rules/*.md ----------------------------------------------------------------------------


class RuleFrontMatter(Strict):
    title: str | None = None
    tags: list[str] = Field(default_factory=list)


class RuleSection(BaseModel):
    heading: str
    text: str


class RuleDoc(BaseModel):
    file: str  # file name relative to rules/, e.g. "退换货.md"
    title: str
    tags: list[str]
    sections: list[RuleSection]


# --- orders.yaml ---------------------------------------------------------------------------

OrderStatus = Literal[
    "WAIT_BUYER_PAY",
    "WAIT_SELLER_SEND_GOODS",
    "WAIT_BUYER_CONFIRM_GOODS",
    "TRADE_FINISHED",
    "TRADE_CLOSED",
]
RefundType = Literal["REFUND_ONLY", "RETURN_REFUND", "EXCHANGE"]
RefundStatus = Literal[
    "WAIT_SELLER_AGREE",
    "WAIT_BUYER_RETURN_GOODS",
    "WAIT_SELLER_CONFIRM_GOODS",
    "SELLER_REFUSE_BUYER",
    "SUCCESS",
    "CLOSED",
]
OPEN_REFUND_STATUSES: frozenset[str] = frozenset(
    {"WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS"}
)


class Buyer(Strict):
    id: NonEmpty
    nick: NonEmpty
    phone: NonEmpty
    vip_level: int = Field(default=0, ge=0, le=5)
    birthday: str | None = Field(default=None, pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")  # "MM-DD"
    marketing_opt_in: bool = False  # care messages (birthday greetings) need it
    coupons: list[str] = Field(default_factory=list)  # extension (optional): coupon ids held


class OrderItem(Strict):
    oid: NonEmpty
    product: NonEmpty
    sku: NonEmpty
    qty: int = Field(ge=1)
    price: Money
    paid: Money


class Address(Strict):
    name: NonEmpty
    phone: NonEmpty
    region: NonEmpty
    detail: NonEmpty


class Trace(Strict):
    time: ShopTime
    desc: NonEmpty


class Shipping(Strict):
    company: NonEmpty
    tracking_no: NonEmpty
    shipped_at: ShopTime
    signed_at: ShopTime | None = None
    traces: list[Trace] = Field(default_factory=list)


class Refund(Strict):
    id: NonEmpty
    no: int | None = Field(default=None, ge=1)  # a short number for buyers (售后单 3), given at creation
    type: RefundType
    status: RefundStatus
    items: list[str] = Field(min_length=1)
    amount: Money
    reason: str | None = None
    created: ShopTime
    exchange_sku: str | None = None

    @model_validator(mode="after")
    def _exchange(self) -> Refund:
        if self.type == "EXCHANGE" and not self.exchange_sku:
            raise ValueError("an EXCHANGE refund needs exchange_sku")
        return self

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REFUND_STATUSES


class Order(Strict):
    tid: NonEmpty
    buyer: NonEmpty
    status: OrderStatus
    created: ShopTime
    paid_at: ShopTime | None = None
    items: list[OrderItem] = Field(min_length=1)
    total_paid: Money
    address: Address
    shipping: Shipping | None = None
    refunds: list[Refund] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Order:
        total = sum((i.paid for i in self.items), Decimal("0"))
        if to_fen(total) != self.total_paid:
            raise ValueError(f"total_paid {self.total_paid} is not the sum of items' paid ({to_fen(total)})")
        if self.status == "WAIT_BUYER_PAY" and self.paid_at is not None:
            raise ValueError("a WAIT_BUYER_PAY order has no paid_at")
        if self.status in ("WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_CONFIRM_GOODS") and self.paid_at is None:
            raise ValueError(f"a {self.status} order needs paid_at")
        if self.status == "WAIT_BUYER_CONFIRM_GOODS" and self.shipping is None:
            raise ValueError("a WAIT_BUYER_CONFIRM_GOODS order needs shipping")
        oids = [i.oid for i in self.items]
        if len(set(oids)) != len(oids):
            raise ValueError("item oids must be unique within the order")
        for r in self.refunds:
            unknown = [o for o in r.items if o not in oids]
            if unknown:
                raise ValueError(f"refund {r.id} names unknown items {unknown}")
        return self

    def item(self, oid: str) -> OrderItem | None:
        return next((i for i in self.items if i.oid == oid), None)


class OrdersFile(Strict):
    buyers: list[Buyer]
    orders: list[Order]


class PromotionsFile(Strict):
    promotions: list[Promotion]


class FaqFile(Strict):
    faq: list[FaqEntry]


# --- the whole shop ------------------------------------------------------------------------


class Shop(BaseModel):
    """A validated shop directory. Products, buyers and orders are keyed by id."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    root: Path
    info: ShopInfo
    products: dict[str, Product]
    rules: list[RuleDoc]
    promotions: list[Promotion]
    faq: list[FaqEntry]
    buyers: dict[str, Buyer]
    orders: list[Order]
    file_hashes: dict[str, str] = Field(default_factory=dict)  # relative path -> sha256
    # SKU id → product id (see sku_owners).
    _sku_owner: dict[str, str] | None = PrivateAttr(default=None)
    _sku_products: int = PrivateAttr(default=-1)
    _content_hash: tuple[int, str] | None = PrivateAttr(default=None)

    @property
    def tz(self) -> tzinfo:
        return self.info.tz

    def sku(self, sku_id: str) -> tuple[Product, Sku] | None:
        """The product and SKU of ``sku_id``, by key (not a scan of the products)."""
        pid = self.sku_owners().get(sku_id)
        product = self.products.get(pid) if pid is not None else None
        sku = product.sku(sku_id) if product is not None else None
        return (product, sku) if product is not None and sku is not None else None

    def sku_owners(self) -> dict[str, str]:
        """SKU id → product id. The loader builds it, so the cached copy of a validated shop
        holds it too; built again when products were added since."""
        owners = self._sku_owner
        if owners is None or self._sku_products != len(self.products):
            owners = {}
            for product in self.products.values():
                for s in product.skus:
                    owners.setdefault(s.sku_id, product.id)
            self._sku_owner, self._sku_products = owners, len(self.products)
        return owners

    def promotions_at(self, now: datetime) -> list[Promotion]:
        return [p for p in self.promotions if p.valid_at(now)]

    @property
    def content_hash(self) -> str:
        """One hash of every file of the shop, worked out once (guards key caches by it)."""
        cached = self._content_hash
        if cached is not None and cached[0] == len(self.file_hashes):
            return cached[1]
        digest = hashlib.sha256()
        for path in sorted(self.file_hashes):
            digest.update(f"{path}:{self.file_hashes[path]}\n".encode())
        self._content_hash = (len(self.file_hashes), digest.hexdigest())
        return self._content_hash[1]
