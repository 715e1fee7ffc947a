"""Exchange (换货): signed, within ``return_window_days``, for an in-stock SKU of the same product.
A faulty piece (a quality reason, or 「换个新的」) is exchanged for the very SKU the buyer has."""

from __future__ import annotations

import re

from bot.flows import policy, views
from bot.flows.aftersale import free_items, new_refund_id, refusal_for_items
from bot.flows.common import ask_yes_no, focus, not_selected
from bot.flows.returns import not_returnable_status, window_refusal
from bot.flows.selection import Selection, select_items, select_order
from bot.flows.state import DialogueState, Pending
from bot.flows.step import FlowContext, Step
from bot.router.router import ParsedTurn
from bot.shop.models import Product, Sku
from bot.text.normalize import normalize

_BIGGER = re.compile(r"大一(码|号|个码|点)|大码|大号")
_SMALLER = re.compile(r"小一(码|号|个码|点)|小码|小号")
MAX_OPTIONS = 8


def _size_key(product: Product) -> str | None:
    keys = {k for s in product.skus for k in s.props}
    return next((k for k in keys if "码" in k or "尺" in k or k.lower() == "size"), None)


def _relative_size(product: Product, current: Sku, norm: str) -> dict[str, str]:
    """换大一码 / 换小一码: the neighbouring size in the order the product lists its sizes."""
    step = 1 if _BIGGER.search(norm) else (-1 if _SMALLER.search(norm) else 0)
    key = _size_key(product)
    if not step or key is None or key not in current.props:
        return {}
    sizes: list[str] = []
    for s in product.skus:
        if key in s.props and s.props[key] not in sizes:
            sizes.append(s.props[key])
    idx = sizes.index(current.props[key]) + step
    return {key: sizes[idx]} if 0 <= idx < len(sizes) else {key: "（没有更" + ("大" if step > 0 else "小") + "的码）"}


def _options(ctx: FlowContext, product: Product, exclude: str) -> str:
    skus = [s for s in product.skus if s.stock > 0 and s.sku_id != exclude][:MAX_OPTIONS]
    return "、".join(" ".join(s.props.values()) or s.sku_id for s in skus) or "暂无"


# A new piece of the same: 「给我换个新的」, 「换一台新的」, 「换同款」.
_RENEW = re.compile(r"换(个|一个|一台|一部|一双|一套|一只|一支|台|部|双|套|只|支)?新(的|品)?|换(个)?同款|换(个)?一样的")


def _renews(turn: ParsedTurn) -> bool:
    """Whether the buyer wants the piece they have replaced, not another colour or size."""
    return turn.slots.reason_kind == "quality" or bool(_RENEW.search(turn.norm))


# What follows these words is what the buyer wants ("白色的想换成黑色", "66的小了 想换73的").
_TOWARD = re.compile(r"换成|换到|换为|改成|换个|换一个|换一件|换")


def _wanted(ctx: FlowContext, product: Product, current: Sku, turn: ParsedTurn) -> dict[str, str]:
    """The option values the buyer wants: named after 换成/换 when they say so, and not the
    ones they already have ("白色的想换成黑色" wants 黑色)."""
    if ctx.linker is None:
        return dict(turn.slots.props)
    text = normalize(turn.text)
    toward = _TOWARD.search(text)
    wanted = dict(ctx.linker.props_in(text[toward.end():], product.id)) if toward else {}
    wanted = wanted or dict(ctx.linker.props_in(text, product.id))
    changed = {k: v for k, v in wanted.items() if current.props.get(k) != v}
    return changed or wanted


def exchange_flow(ctx: FlowContext, state: DialogueState, turn: ParsedTurn) -> Step:
    intent = "exchange"
    fine = turn.fine_intent if turn.fine_intent not in (None, "choose_order") else intent
    pending = state.pending
    if pending and pending.kind == "ask_exchange_sku" and turn.fine_intent == "exchange_target":
        sel = Selection(order=ctx.order(pending.tid))
        asked_oids = pending.oids
    else:
        sel = select_order(ctx, state, turn, intent)
        asked_oids = []
    if sel.order is None:
        return not_selected(ctx, state, turn, sel, intent, fine or intent)
    order = sel.order
    state = focus(state, order.tid, order.items[0].product).model_copy(update={"pending": None})
    refused = not_returnable_status(ctx, state, order, intent, fine, "换货")
    if refused is not None:
        return refused
    wanted_oids = select_items(order, turn)
    if asked_oids and len(wanted_oids) == len(order.items):
        wanted_oids = asked_oids
    free = free_items(order, wanted_oids)
    if not free:
        return refusal_for_items(ctx, state, order, wanted_oids, intent, fine)
    if len(free) > 1:
        ask = Pending(id=ctx.ids.new_id("q"), kind="ask_exchange_sku", intent=intent, tid=order.tid, oids=free)
        step = Step(ctx.t.render("exchange_ask_item", tid=order.tid, items=views.items_text(ctx.shop, order, free)), intent, state, fine)
        step.state = step.state.model_copy(update={"pending": ask})
        return step
    pol = ctx.shop.info.policy
    if not policy.within(order, pol.return_window_days, ctx.now):
        return window_refusal(ctx, state, order, pol.return_window_days, "换货", intent, fine)
    item = order.item(free[0])
    assert item is not None
    product = ctx.shop.products.get(item.product)
    current = product.sku(item.sku) if product else None
    if product is None or current is None:
        return Step(ctx.t.render("product_not_in_order", tid=order.tid), intent, state, fine)
    state = state.model_copy(update={"focus_product": product.id})
    wanted = _wanted(ctx, product, current, turn)
    wanted = {**_relative_size(product, current, turn.norm), **wanted}
    ask = Pending(id=ctx.ids.new_id("q"), kind="ask_exchange_sku", intent=intent, tid=order.tid, oids=[item.oid])
    renew = not wanted and _renews(turn)
    if renew:
        wanted = dict(current.props)  # the same SKU, a new piece
    if not wanted:
        step = Step(ctx.t.render("exchange_ask_target", title=product.title, options=_options(ctx, product, current.sku_id)), intent, state, fine)
        step.state = step.state.model_copy(update={"pending": ask})
        return step
    merged = {**current.props, **wanted}
    target = next((s for s in product.skus if s.props == merged), None)
    if target is None:
        step = Step(ctx.t.render("exchange_sku_unknown", title=product.title, wanted=" ".join(wanted.values()),
                                 options=_options(ctx, product, current.sku_id)), intent, state, "exchange_sku_unknown")
        step.state = step.state.model_copy(update={"pending": ask})
        return step
    target_text = views.sku_text(ctx.shop, target.sku_id)
    if target.sku_id == current.sku_id and not renew:
        step = Step(ctx.t.render("exchange_same", target=target_text), intent, state, fine)
        step.state = step.state.model_copy(update={"pending": ask})
        return step
    if target.stock <= 0:
        step = Step(ctx.t.render("exchange_out_of_stock", target=target_text, options=_options(ctx, product, current.sku_id)),
                    intent, state, "exchange_out_of_stock")
        step.state = step.state.model_copy(update={"pending": ask})
        return step
    reply = ctx.t.render("confirm_exchange_renew" if renew else "confirm_exchange", tid=order.tid, items=views.items_text(ctx.shop, order, [item.oid]), target=target_text)
    change = Pending(id=ctx.ids.new_id("act"), kind="exchange", intent=intent, tid=order.tid, oids=[item.oid], amount="0.00",
                     refund_id=new_refund_id(ctx, order), exchange_sku=target.sku_id,
                     reason=(f"换货：质量问题，换同款 {' '.join(target.props.values())}" if renew
                             else f"换货：换成 {' '.join(target.props.values())}"),
                     summary=f"订单 {order.tid} 换货为 {target_text}")
    return ask_yes_no(Step(reply, intent, state, fine, cards=[views.order_card(ctx.shop, order)]), change)
