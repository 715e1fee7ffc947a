"""Prompts are files with declared variables; a mismatch stops start-up naming the variable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import Settings
from bot.drafting.pipeline import build_pipeline
from bot.drafting.prompts import PROMPTS_DIR, PromptSet
from bot.errors import ConfigError
from bot.retrieval.linker import EntityLinker
from bot.shop.models import Shop
from tests.fakes.retriever import FakeRetriever


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "prompts"
    target.mkdir()
    for path in PROMPTS_DIR.iterdir():
        if path.is_file():
            shutil.copy(path, target / path.name)
    return target


def _build(shop: Shop, prompts_dir: Path, model: str | None = None) -> None:
    build_pipeline(shop, Settings(llm_model=model), FakeRetriever(shop), EntityLinker(shop), prompts_dir=prompts_dir)


def test_the_shipped_prompts_load_and_render() -> None:
    prompts = PromptSet.load()
    text = prompts.render("system", shop_name="某店", persona_name="小某", address_term="亲")
    assert "某店" in text and "小某" in text


def test_a_placeholder_that_is_not_declared_fails_with_its_name(tmp_path: Path, mini_shop: Shop) -> None:
    d = _copy(tmp_path)
    (d / "system.md").write_text("---\nvariables: [shop_name, persona_name, address_term]\n---\n{shop_name}{persona_name}{address_term}{secret}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="secret"):
        _build(mini_shop, d)


def test_a_template_missing_a_variable_the_drafter_passes_fails_at_start_up(tmp_path: Path, mini_shop: Shop) -> None:
    d = _copy(tmp_path)
    text = (d / "templates.yaml").read_text(encoding="utf-8")
    text = text.replace('stock_in: {variables: [item, stock], text: "{item}有货的，目前库存{stock}件，喜欢可以放心拍～"}',
                        'stock_in: {variables: [item], text: "{item}有货的"}')
    (d / "templates.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="stock"):
        _build(mini_shop, d)


def test_a_missing_llm_prompt_fails_only_when_a_model_is_configured(tmp_path: Path, mini_shop: Shop) -> None:
    d = _copy(tmp_path)
    (d / "regenerate.md").unlink()
    _build(mini_shop, d)  # offline: the LLM prompts are not needed
    with pytest.raises(ConfigError, match="regenerate"):
        _build(mini_shop, d, model="some-model")


def test_rendering_without_a_declared_variable_names_it() -> None:
    prompts = PromptSet.load()
    with pytest.raises(ConfigError, match="persona_name"):
        prompts.render("system", shop_name="x", address_term="亲")
