"""What the language model is sent: a stable prefix, then a short brief of the message's facts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.config import Settings
from bot.drafting.llm import conversation
from bot.drafting.prompts import PROMPTS_DIR
from bot.errors import ConfigError
from bot.shop.models import Shop
from tests.drafting.helpers import pipeline, request
from tests.fakes.openai_server import FakeOpenAI

GOOD = "亲，这款龙井现在参加新茶上市85折，一件到手142.80元哦～"


def _offline(**kw: object) -> Settings:
    # A model is configured so the LLM drafter is built; these tests only render its messages.
    return Settings(llm_model="fake-model", openai_base_url="http://127.0.0.1:9/v1", **kw)  # type: ignore[arg-type]


def _system(shop: Shop, question: str, intent: str, product_id: str | None = None) -> tuple[str, str]:
    pipe = pipeline(shop, _offline())
    assert pipe.llm is not None
    req = request(shop, question, intent, product_id)
    facts, facts_dict = pipe.build_facts(req)
    return str(pipe.llm.messages(req, facts)[0].content), json.dumps(facts_dict, ensure_ascii=False)


def test_every_message_of_a_shop_starts_with_the_same_prefix(mini_shop: Shop) -> None:
    price, _ = _system(mini_shop, "龙井多少钱", "price_promotion", "T101")
    shipping, _ = _system(mini_shop, "寄新疆包邮吗", "shipping_policy")
    pipe = pipeline(mini_shop, _offline())
    assert pipe.llm is not None
    facts, _ = pipe.build_facts(request(mini_shop, "龙井多少钱", "price_promotion", "T101"))
    prefix = pipe.llm.prefix(facts)
    assert price.startswith(prefix) and shipping.startswith(prefix)
    assert "满99元包邮（新疆、西藏除外）" in prefix  # the shop's policy is part of it
    assert price[len(prefix):] != shipping[len(prefix):]


def test_the_brief_holds_what_the_answer_needs_and_no_internal_ids(mini_shop: Shop) -> None:
    system, facts_json = _system(mini_shop, "龙井多少钱，500g礼盒有货吗", "price_promotion", "T101")
    assert "新茶上市85折后142.80元" in system and "到手142.80元" in system
    assert "500g礼盒318元缺货" in system and "250g罐装168元有货40件" in system
    assert "问题1（价格）" in system and "问题2（库存）" in system
    for internal in ("T101", "T101-500", "D-NEW", "products/T101.yaml", "citation"):
        assert internal not in system
    assert len(system) * 3 < len(facts_json)


def test_a_question_nothing_answers_is_marked_so(mini_shop: Shop) -> None:
    system, _ = _system(mini_shop, "龙井的茶多酚含量具体是多少", "product_info", "T101")
    assert "资料里没有写到" in system


def test_the_conversation_alternates_and_starts_with_the_buyer() -> None:
    history = [("bot", "欢迎光临"), ("buyer", "在吗"), ("buyer", "问一下"), ("bot", "亲在的"), ("buyer", "还有个事"), ("system", "x")]
    assert conversation(history) == [("buyer", "在吗\n问一下"), ("shop", "亲在的"), ("buyer", "还有个事")]
    assert conversation([("buyer", "很长" * 300)])[0][1] == ("很长" * 300)[:200]


def test_unanswered_buyer_messages_lead_into_the_question(mini_shop: Shop) -> None:
    pipe = pipeline(mini_shop, _offline())
    assert pipe.llm is not None
    req = request(mini_shop, "多少钱", "price_promotion", "T101", history=[("buyer", "龙井在吗"), ("bot", "在的亲"), ("buyer", "问下龙井")])
    facts, _ = pipe.build_facts(req)
    roles = [(m.type, m.content) for m in pipe.llm.messages(req, facts)[1:]]
    assert roles == [("human", "龙井在吗"), ("ai", "在的亲"), ("human", "问下龙井\n多少钱")]


def test_the_reply_is_capped_and_the_tokens_are_recorded(fake_openai: FakeOpenAI, mini_shop: Shop) -> None:
    fake_openai.script(GOOD)
    settings = Settings(llm_model="fake-model", openai_base_url=fake_openai.base_url, openai_api_key="k", llm_max_tokens=99)  # type: ignore[arg-type]
    d = pipeline(mini_shop, settings).draft(request(mini_shop, "龙井多少钱", "price_promotion", "T101"))
    assert fake_openai.chat_requests[0].body["max_tokens"] == 99
    assert d.drafter == "llm" and [(u.prompt_tokens, u.completion_tokens) for u in d.usage] == [(10, len(GOOD))]


def test_a_brief_phrase_with_a_wrong_variable_stops_start_up(tmp_path: Path, mini_shop: Shop) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, prompts)
    brief = prompts / "brief.yaml"
    brief.write_text(
        brief.read_text(encoding="utf-8").replace("{variables: [title, price, why], text:", "{variables: [title, price], text:"),
        encoding="utf-8",
    )
    from bot.drafting.pipeline import build_pipeline
    from bot.retrieval.linker import EntityLinker
    from tests.fakes.retriever import FakeRetriever

    with pytest.raises(ConfigError, match="brief.yaml:reco"):
        build_pipeline(mini_shop, _offline(), FakeRetriever(mini_shop), EntityLinker(mini_shop), prompts_dir=prompts)
