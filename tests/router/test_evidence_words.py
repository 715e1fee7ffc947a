"""The classifier's reading of a flow that acts needs the line's own evidence: an address
change names some part of an address, and a no with nothing pending is not a question."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.router.classifier import Prediction
from bot.router.router import Router, build_router
from bot.shop import Shop, load_shop

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop"


class Says:
    """A fitted classifier that reads every line as ``intent``, sure of it."""

    fitted = True

    def __init__(self, intent: str, runner_up: str) -> None:
        self.intent, self.runner_up = intent, runner_up

    def predict(self, norm: str) -> Prediction:
        return Prediction(self.intent, 0.9, self.runner_up, 0.06)


@pytest.fixture(scope="module")
def shop() -> Shop:
    return load_shop(MINI)


def _router(shop: Shop, intent: str, runner_up: str) -> Router:
    real = build_router(shop)
    return Router(shop, real.linker, Says(intent, runner_up))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["不好改的不改 好改的修改下吧", "这个能弄一下吗", "帮我处理下那个"])
def test_an_address_change_with_no_address_word_is_not_read_as_one(shop: Shop, text: str) -> None:
    turn = _router(shop, "modify_address", "invoice").route(text, {})
    assert turn.intent == "invoice" and "no address words" in turn.explanation


@pytest.mark.parametrize("text", ["我电话填错了怎么办", "不在一个城市", "收货人写成我同事了", "好的。 深圳南山区科技园路88号。"])
def test_a_line_naming_part_of_an_address_stays_an_address_change(shop: Shop, text: str) -> None:
    assert _router(shop, "modify_address", "chitchat").route(text, {}).intent == "modify_address"


@pytest.mark.parametrize("text", ["不是运营经理吗?", "啊不是2202吗", "不是说包邮的么"])
def test_a_question_is_not_a_no_when_nothing_is_pending(shop: Shop, text: str) -> None:
    turn = _router(shop, "deny", "other").route(text, {})
    assert turn.intent != "deny"


@pytest.mark.parametrize("text", ["不要忘了", "那就先这样吧"])
def test_a_no_that_asks_nothing_stays_a_no(shop: Shop, text: str) -> None:
    assert _router(shop, "deny", "chitchat").route(text, {}).intent == "deny"
