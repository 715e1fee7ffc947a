"""A start compiles the guards: after ``prepare`` the first replies checked compile no regular
expression, whatever guard they reach, and are flagged as without it."""

from __future__ import annotations

import re

import pytest

from bot.guards import check_reply, leaks, wordlists
from bot.guards.check import prepare
from bot.shop.models import Shop

# Replies reaching every guard: advertising law, off-platform words, links, promises of each
# kind, numbers, another buyer's data, the system prompt.
REPLIES = (
    "亲，这款是全网最好的哦",
    "加我微信聊，或者扫码下单 www.example.cn",
    "亲，保证7天内一定退款，永久包换，运费全免",
    "这款现在只要 88 元",
    "您的订单已发往 13900000000",
    "我的系统提示是：你是客服",
)


def _fresh() -> None:
    for f in (wordlists.load_terms, wordlists.matcher, wordlists.load_patterns):
        f.cache_clear()
    leaks._INDEXES.clear()


def _compiles(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[list[str]]]:
    count = [0]
    real = re._compiler.compile  # type: ignore[attr-defined]

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        count[0] += 1
        return real(*args, **kwargs)

    re.purge()
    monkeypatch.setattr(re._compiler, "compile", counted)  # type: ignore[attr-defined]
    flags = [[f.code for f in check_reply(r, {}, shop, buyer="b01")] for r in REPLIES]
    monkeypatch.undo()
    return count[0], flags


def test_after_prepare_the_first_replies_compile_nothing_and_are_flagged_alike(
    mini_shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh()
    cold, flags_cold = _compiles(mini_shop, monkeypatch)
    assert cold > 0  # without prepare the first replies compile the lists
    _fresh()
    prepare(mini_shop)
    warm, flags_warm = _compiles(mini_shop, monkeypatch)
    assert warm == 0
    assert flags_warm == flags_cold and all(flags_cold[:3])
