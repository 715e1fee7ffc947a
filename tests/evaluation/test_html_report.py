"""The HTML report is one offline file with a summary, charts and the failed transcripts."""

from __future__ import annotations

from html.parser import HTMLParser

from bot.evaluation.html_report import render_html
from bot.evaluation.runner import run_suites
from bot.evaluation.suite import load_suite
from bot.evaluation.target import InProcessTarget

SUITE = """
cases:
  - id: greet
    buyer: b01
    turns: [{user: 你好, expect: {intent: greeting}}]
  - id: greet-wrong
    buyer: b01
    turns: [{user: 你好<script>, expect: {intent: chitchat}}]
  - id: price
    buyer: b02
    turns: [{user: 龙井多少钱, expect: {intent: price_promotion, reply_contains: ["168.00"]}}]
"""


class Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}
        self.tags: list[str] = []
        self.classes: list[str] = []
        self.refs: list[str] = []
        self.text: list[str] = []
        self.bars: list[dict[str, str]] = []
        self.cells: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids[a["id"]] = tag
        self.classes.extend((a.get("class") or "").split())
        self.refs.extend(v for k, v in attrs if k in ("src", "href") and v)
        if tag == "rect" and a.get("class") == "bar":
            self.bars.append(a)
        if tag == "rect" and a.get("class") == "cell":
            self.cells.append(a)

    def handle_data(self, data):
        self.text.append(data)


def render(write_suite, tea_shop, fake) -> Outline:
    report = run_suites([load_suite(write_suite(SUITE))],
                        lambda shop, now: InProcessTarget(fake.Services(tea_shop)))
    page = Outline()
    page.feed(render_html(report))
    return page


def test_report_has_summary_and_the_three_charts(write_suite, tea_shop, fake):
    page = render(write_suite, tea_shop, fake)
    for section in ("summary", "charts", "suites", "failures"):
        assert page.ids[section] == "section"
    for chart in ("chart-intent-accuracy", "chart-confusion", "chart-latency"):
        assert page.ids[chart] == "svg"
    assert {b["data-label"]: b["data-value"] for b in page.bars} == {
        "chitchat": "0.0000", "greeting": "1.0000", "price_promotion": "1.0000"}
    # the wrongly classified greeting shows up off the diagonal
    assert {"data-expected": "chitchat", "data-actual": "greeting"}.items() <= next(
        c for c in page.cells if c["data-expected"] == "chitchat").items()
    assert page.classes.count("bin") >= 1


def test_report_renders_offline_and_escapes_transcripts(write_suite, tea_shop, fake):
    page = render(write_suite, tea_shop, fake)
    assert "script" not in page.tags
    assert not [r for r in page.refs if r.startswith(("http:", "https:", "//"))]
    text = "".join(page.text)
    assert "你好<script>" in text  # shown as text, not markup
    assert "intent 'greeting', expected 'chitchat'" in text


def test_failed_cases_come_with_their_transcripts(write_suite, tea_shop, fake):
    page = render(write_suite, tea_shop, fake)
    text = "".join(page.text)
    assert page.classes.count("case") == 1  # only the failed case
    assert "greet-wrong" in text and "亲，您好，我是小山～" in text
