"""Drafts for suggestion tests (imported as tests.suggestions.helpers)."""

from __future__ import annotations

from bot.drafting.pipeline import Draft
from bot.turns import Source


def draft(text: str = "亲，黑色L码暂时没货了，黑色XL码有货，您看是黑色XL码还是白色L码呢？", *, passed: bool = True) -> Draft:
    return Draft(
        text=text,
        citations=[Source(id="product:TS01", citation="products/TS01.yaml", title="T恤")],
        facts={"intent": "stock", "asked_skus": [{"sku_id": "TS01-BK-L", "stock": 0}]},
        flags=[] if passed else ["ad_law"],
        flag_details=[] if passed else ["ad_law: 最好"],
        drafter="template",
        fallback_reason=None,
        passed=passed,
    )
