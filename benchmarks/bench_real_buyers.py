"""Intent accuracy of the router on real buyer lines (JDDC and ECD), labelled by hand.

The labels (eval/real-buyers/labels.tsv) point at lines of the real-buyer corpus by source,
session and turn; the corpus itself is read from its directory (``../shared/data/real-buyers``
beside the repository, or ``--corpus DIR`` / ``XIAOER_REAL_BUYERS``). Masked values such as
``[订单x]`` or ``[金额x]`` are replaced with plausible ones before routing.

Context: the router reads no earlier text, only the dialogue state (the question the bot is
waiting on, the product and order in focus). With ``--context replay`` (the default) each
session's buyer lines are played in order through ``DialogueManager`` on the embedded SQL
order backend (in-memory SQLite, re-seeded per session, frozen clock), so a labelled line is
routed with the state the bot itself would have after the earlier buyer turns. The corpus
agent's own replies cannot be fed in as text; but when the agent's line just before a buyer
line ends by asking something, or is the buyer's order, address, name or id read back for
them to check, the buyer line is routed with a pending question, as the bot's own flows
would hold one after asking; and when it asks nothing, a question the bot
itself would hold after the replayed turns (its own "哪一单？") is dropped for that line, since
the buyer never saw it (``--bot-questions keep`` keeps it; ``--no-agent-questions`` ignores
the agent's turns altogether). ``--context none`` routes every labelled line alone, with an
empty state.

The intent compared is the router's decision (``ParsedTurn.intent``, already canonical;
``fine_intent`` is the finer name inside the router). On the lines the classifier decided,
the report also bins its confidence against how often it was right and gives the expected
calibration error: what a floor of, say, 0.5 means on real buyers' lines.

``--model-intents llama`` lets a language model read the lines the classifier is unsure of, as
the router does with ``XIAOER_LLM_INTENTS=1`` (:mod:`bot.router.model_intent`): the small model
of the ``real-model`` extra on llama.cpp's server started here, or ``configured``, the model of
``XIAOER_LLM_MODEL`` / ``OPENAI_BASE_URL``. The report then gives how often its readings were right.

Run: .venv/bin/python benchmarks/bench_real_buyers.py [--misses] [--json out.json]
     [--shop DIR] [--corpus DIR] [--context replay|none] [--bot-questions agent|keep]
     [--source jddc|ecd] [--labels TSV] [--model-intents llama|configured]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.clock import FrozenClock
from bot.config import Settings
from bot.drafting.prompts import PromptSet
from bot.errors import ShopInvalid
from bot.flows.dialogue import DialogueManager
from bot.ids import SequentialIds
from bot.orders.sql import SqlOrderBackend
from bot.router.intents import CANONICAL_INTENTS
from bot.router.model_intent import ModelIntentReader
from bot.router.router import ParsedTurn, Router, build_router
from bot.shop import Shop, load_shop
from bot.storage.db import create_all, make_engine

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "eval" / "real-buyers" / "labels.tsv"
CORPUS_ENV = "XIAOER_REAL_BUYERS"
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "real-buyers"
CORPUS_FILES = {"jddc": ("jddc-dev.tsv", "session"), "ecd": ("ecd-train.tsv", "context")}
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")  # the demo orders' reference time

# Masked values of the corpus -> plausible values. [订单x] and [链接x] depend on the shop.
FIXED_VALUES = {
    "数字": "2",
    "金额": "99元",
    "日期": "11月20日",
    "时间": "10:00",
    "地址": "朝阳区建国路88号",
    "姓名": "王芳",
    "电话": "13800001111",
    "站点": "北京朝阳站",
    "组织机构": "杭州云帆科技有限公司",
    "邮箱": "service@example.com",
}
MASK = re.compile(r"\[([^\[\]]+?)x\]")
# A masked number right after the words for an order number is that order's number.
ORDER_NUMBER = re.compile(r"((?:订单|单)(?:编号|号码|号)?(?:是|为)?[:：;；\s]*)\[数字x\]")


@dataclass(frozen=True)
class Label:
    source: str
    session: str
    turn: int
    intent: str
    also: str
    note: str


@dataclass
class Line:
    role: str
    text: str


@dataclass
class Result:
    label: Label
    text: str
    predicted: str
    fine: str
    explanation: str
    also: tuple[str, ...] = ()  # the intents the router found asked beside the primary one
    source: str = ""  # what decided the line (classifier, rule, lexicon, context…)
    confidence: float = 0.0

    @property
    def right(self) -> bool:
        return self.predicted == self.label.intent

    @property
    def right_or_also(self) -> bool:
        return self.right or (bool(self.label.also) and self.predicted == self.label.also)


def corpus_dir(option: Path | None) -> Path:
    if option is not None:
        return option
    env = os.environ.get(CORPUS_ENV)
    return Path(env) if env else DEFAULT_CORPUS


def load_labels(path: Path) -> list[Label]:
    labels: list[Label] = []
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f, delimiter="\t"), start=2):
            intent, also = row["intent"].strip(), (row.get("also") or "").strip()
            for name in filter(None, (intent, also)):
                if name not in CANONICAL_INTENTS:
                    raise SystemExit(f"{path}:{n}: {name!r} is not a canonical intent")
            if row["source"] not in CORPUS_FILES:
                raise SystemExit(f"{path}:{n}: unknown source {row['source']!r}")
            labels.append(
                Label(row["source"], row["session"], int(row["turn"]), intent, also, (row.get("note") or "").strip())
            )
    return labels


def load_corpus(folder: Path, source: str) -> dict[str, dict[int, Line]]:
    """session -> turn -> line, in file order."""
    name, key = CORPUS_FILES[source]
    path = folder / name
    if not path.is_file():
        raise SystemExit(f"corpus file not found: {path} (set --corpus or {CORPUS_ENV})")
    sessions: dict[str, dict[int, Line]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            sessions.setdefault(row[key], {})[int(row["turn"])] = Line(row["role"], row["text"] or "")
    return sessions


class Unmasker:
    """Replaces the corpus's masked values with values that fit the loaded shop."""

    def __init__(self, tid: str, product_title: str) -> None:
        self.values = {**FIXED_VALUES, "订单": tid, "链接": product_title}

    def __call__(self, text: str) -> str:
        # Inner masks first: "[USERID_[数字x]]" and "[订单编号:[订单x]，…]" keep their frame.
        text = ORDER_NUMBER.sub(lambda m: m.group(1) + self.values["订单"], text)
        return MASK.sub(lambda m: self.values.get(m.group(1), ""), text)


class RecordingRouter:
    """The project's router, keeping the last decision the dialogue manager asked it for."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self.last: ParsedTurn | None = None

    def route(self, text: str, state: dict[str, Any]) -> ParsedTurn:
        self.last = self._router.route(text, state)
        return self.last

    def __getattr__(self, name: str) -> Any:
        return getattr(self._router, name)


def replay_buyer(shop: Shop) -> tuple[str | None, str]:
    """The buyer whose orders the replay uses, and the order id put for ``[订单x]``."""
    for order in shop.orders:
        if order.buyer in shop.buyers:
            return order.buyer, order.tid
    return (next(iter(shop.buyers), None), "7001")


# The question the corpus agent asked just before a buyer line, as the bot's own flows would
# hold it: a pending question the line may answer with a yes or a no.
AGENT_QUESTION = {"kind": "agent_question", "intent": None}
# Tag questions ("…是吧", "…对吧", "…可以嘛") and a request to check something ("麻烦核对下
# 地址") wait for a yes as much as "…吗？" does.
_ASKS_TAIL = (
    "?", "？", "吗", "么", "嘛", "是否", "对不对", "好不好", "可不可以", "行不行", "是不是", "是吧", "对吧",
    "核对",
)


# "还有其他问题吗", "还有没有别的需要帮忙的？" close a chat: they leave nothing pending.
_CLOSING = re.compile(
    r"还有(什么|其他|其它|别的|啥).{0,12}(吗|么|呢|\?|？)"
    r"|还有(没有)?.{0,8}(帮|服务|问题|需要|疑问).{0,8}(吗|么|呢|哟|\?|？)"
    r"|满意|评价"
)


# An agent line that is only the buyer's order, address, name, phone or id read back
# ("订单[订单x]", "[地址x]", "[身份证号x] [姓名x]") asks the buyer to check it, as "核对" does.
_READ_BACK = re.compile(r"\[(订单|订单编号:\[订单|地址|姓名|电话|身份证号|邮箱)x\]\]?")
_READ_BACK_WORDS = 4  # at most this many other characters beside the values: "订单", "这个"


def reads_back(agent_text: str) -> bool:
    """Whether an agent line is a read-back of the buyer's own details and little else."""
    if not _READ_BACK.search(agent_text):
        return False
    rest = re.sub(r"[\s,，.。:：;；!！~]", "", _READ_BACK.sub("", agent_text))
    return len(rest) <= _READ_BACK_WORDS and "[" not in rest


def asks_buyer(agent_text: str) -> bool:
    """Whether an agent line ends by asking the buyer something (a yes/no or a choice), or
    reads the buyer's details back for them to check."""
    if reads_back(agent_text):
        return True
    tail = agent_text.strip()[-24:]
    return any(cue in tail[-12:] for cue in _ASKS_TAIL) and not _CLOSING.search(tail)


def _as_answering(
    router: Router, text: str, before: dict[str, Any], agent_asked: bool, bot_questions: str
) -> ParsedTurn | None:
    """The line routed on what the corpus agent's turn just before put to the buyer, when
    that differs from the question the bot itself would hold (None: route as replayed).

    The labels judge a yes or a no by the agent's turn (README, "好的 / 好 / 嗯"), so a
    question the bot would have asked ("哪一单？") but the agent did not is not before the
    buyer: with ``bot_questions="agent"`` (the default) it is dropped when the agent's turn
    asks nothing, and kept when the agent asks something. ``"keep"`` routes every line on
    the bot's own pending question, as the replay left it.
    """
    pending = before.get("pending")
    if agent_asked and not pending:
        return router.route(text, {**before, "pending": AGENT_QUESTION})
    if bot_questions == "agent" and pending and not agent_asked:
        return router.route(text, {k: v for k, v in before.items() if k != "pending"})
    return None


def run(args: argparse.Namespace, reader: ModelIntentReader | None = None) -> tuple[list[Result], dict[str, Any]]:
    try:
        shop = load_shop(args.shop)
    except ShopInvalid as exc:
        raise SystemExit(f"shop {args.shop} does not load: {exc}") from None
    router = build_router(shop, llm_fallback=reader)
    buyer, tid = replay_buyer(shop)
    first_product = shop.products[sorted(shop.products)[0]] if shop.products else None
    unmask = Unmasker(tid, first_product.title if first_product else "这款商品")
    folder = corpus_dir(args.corpus)
    labels = [lab for lab in load_labels(args.labels) if args.source in (None, lab.source)]
    by_session: dict[tuple[str, str], dict[int, Label]] = defaultdict(dict)
    for lab in labels:
        by_session[(lab.source, lab.session)][lab.turn] = lab
    corpora = {src: load_corpus(folder, src) for src in sorted({lab.source for lab in labels})}

    replay = args.context == "replay"
    questions = not args.no_agent_questions and buyer is not None
    recorder = RecordingRouter(router)
    backend = None
    if replay:
        engine = make_engine("sqlite://")
        create_all(engine)
        backend = SqlOrderBackend(engine, shop)

    results: list[Result] = []
    flow_errors: list[str] = []
    for (source, session), wanted in by_session.items():
        lines = corpora[source].get(session)
        if lines is None:
            raise SystemExit(f"{source} session {session} is not in the corpus")
        for turn in wanted:
            if turn not in lines or lines[turn].role != "buyer":
                raise SystemExit(f"{source} {session} turn {turn} is not a buyer line of the corpus")
        dm = None
        if replay and backend is not None:
            backend.reset()
            dm = DialogueManager(shop, backend, recorder, FrozenClock(NOW), SequentialIds())  # type: ignore[arg-type]
        state: dict[str, Any] = {}
        last_wanted = max(wanted)
        agent_asked = False
        for turn in sorted(lines):
            if turn > last_wanted:
                break
            line = lines[turn]
            if line.role != "buyer":
                agent_asked = asks_buyer(line.text)
                continue
            text = unmask(line.text)
            if dm is not None and buyer is not None:
                recorder.last = None
                before = state
                try:
                    state = dm.handle(state, buyer, text).state
                except Exception as exc:  # a flow fault: the line is still routed, on the state so far
                    flow_errors.append(f"{source} {session} t{turn}: {type(exc).__name__}")
                parsed = recorder.last or router.route(text, before)
                if turn in wanted and questions:
                    parsed = _as_answering(router, text, before, agent_asked, args.bot_questions) or parsed
            elif turn in wanted:
                parsed = router.route(text, {"pending": AGENT_QUESTION} if agent_asked and questions else {})
            else:
                continue
            agent_asked = False
            lab = wanted.get(turn)
            if lab is not None:
                results.append(Result(lab, text, parsed.intent, parsed.fine_intent, parsed.explanation,
                                      tuple(a.intent for a in parsed.also), parsed.source, parsed.confidence))
    meta = {
        "shop": str(args.shop),
        "corpus": str(folder),
        "context": "replay" if replay else "none",
        "replay_buyer": buyer if replay else None,
        "order_id_for_mask": tid,
        "flow_errors": flow_errors,
    }
    return results, meta


# -- figures -----------------------------------------------------------------------------------


def figures(results: list[Result], meta: dict[str, Any]) -> dict[str, Any]:
    n = len(results)
    right = sum(r.right for r in results)
    lenient = sum(r.right_or_also for r in results)
    gold = Counter(r.label.intent for r in results)
    pred = Counter(r.predicted for r in results)
    hits = Counter(r.label.intent for r in results if r.right)
    per_intent = {}
    for intent in CANONICAL_INTENTS:
        if not gold[intent] and not pred[intent]:
            continue
        p = hits[intent] / pred[intent] if pred[intent] else 0.0
        rec = hits[intent] / gold[intent] if gold[intent] else 0.0
        f1 = 2 * p * rec / (p + rec) if p + rec else 0.0
        per_intent[intent] = {
            "precision": round(p, 4), "recall": round(rec, 4), "f1": round(f1, 4),
            "support": gold[intent], "predicted": pred[intent],
        }
    per_source = {}
    for src in sorted({r.label.source for r in results}):
        rs = [r for r in results if r.label.source == src]
        per_source[src] = {
            "n": len(rs),
            "accuracy": round(sum(r.right for r in rs) / len(rs), 4),
            "accuracy_with_also": round(sum(r.right_or_also for r in rs) / len(rs), 4),
        }
    confusion: dict[str, dict[str, int]] = defaultdict(dict)
    for (g, p), c in Counter((r.label.intent, r.predicted) for r in results).items():
        confusion[g][p] = c
    confusions = Counter((r.label.intent, r.predicted) for r in results if not r.right)
    # Two requests in one line: how often the router names the second one, and how often it
    # names one the label does not have.
    with_also = [r for r in results if r.label.also]
    second = {
        "labelled": len(with_also),
        "found": sum(1 for r in with_also if r.label.also in r.also or (r.predicted == r.label.also and r.label.intent in r.also)),
        "named": sum(1 for r in results if r.also),
        "named_wrongly": sum(1 for r in results if r.also and not (set(r.also) & {r.label.also, r.label.intent})),
    }
    read = [r for r in results if r.source == "llm"]
    return {
        "model_read": {"lines": len(read), "right": sum(r.right for r in read)},
        "calibration": calibration(results),
        "second_intent": second,
        **meta,
        "n": n,
        "accuracy": round(right / n, 4) if n else 0.0,
        "accuracy_with_also": round(lenient / n, 4) if n else 0.0,
        "macro_f1": round(
            sum(v["f1"] for k, v in per_intent.items() if gold[k]) / max(1, sum(1 for k in per_intent if gold[k])), 4
        ),
        "per_source": per_source,
        "per_intent": per_intent,
        "confusion": {g: dict(sorted(row.items())) for g, row in sorted(confusion.items())},
        "top_confusions": [
            {"label": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common(15)
        ],
    }


CALIBRATION_BINS = 5


def calibration(results: list[Result]) -> dict[str, Any]:
    """How far the classifier's confidence is from how often it is right, on the lines it
    decided (the router's own intent kept, no rule or context before it): per confidence
    bin the lines, the mean confidence and the share right, and the expected calibration
    error (the bins' gaps weighted by their lines)."""
    decided = [r for r in results if r.source == "classifier"]
    bins = []
    for k in range(CALIBRATION_BINS):
        lo, hi = k / CALIBRATION_BINS, (k + 1) / CALIBRATION_BINS
        rs = [r for r in decided if lo <= r.confidence < hi or (k == CALIBRATION_BINS - 1 and r.confidence == 1.0)]
        if rs:
            bins.append({
                "from": lo, "to": hi, "n": len(rs),
                "confidence": round(sum(r.confidence for r in rs) / len(rs), 4),
                "right": round(sum(r.right for r in rs) / len(rs), 4),
            })
    n = len(decided)
    ece = sum(b["n"] / n * abs(b["confidence"] - b["right"]) for b in bins) if n else 0.0
    return {"lines": n, "ece": round(ece, 4), "bins": bins}


SHORT = {
    "greeting": "greet", "chitchat": "chat", "product_info": "prod", "size_advice": "size",
    "stock": "stock", "price_promotion": "price", "recommendation": "recom",
    "shipping_policy": "shipp", "payment": "pay", "order_status": "ordst", "logistics": "logis",
    "modify_address": "addr", "cancel_order": "cancl", "refund": "refnd", "return": "retrn",
    "exchange": "exchg", "complaint": "compl", "invoice": "invce", "human_agent": "human",
    "confirm": "conf", "deny": "deny", "other": "other",
}


def print_report(fig: dict[str, Any], results: list[Result], show_misses: bool) -> None:
    n = fig["n"]
    right = sum(r.right for r in results)
    print(f"shop {fig['shop']}  corpus {fig['corpus']}  context {fig['context']}")
    print(f"labelled lines: {n}")
    if fig["flow_errors"]:
        print(f"dialogue manager failed on {len(fig['flow_errors'])} replayed turns: {', '.join(fig['flow_errors'][:5])}")
    print(f"overall accuracy: {fig['accuracy']:.3f} ({right}/{n})   "
          f"counting the 'also' intent as right: {fig['accuracy_with_also']:.3f}   macro F1: {fig['macro_f1']:.3f}")
    sec = fig["second_intent"]
    print(f"  second request in a line: found {sec['found']}/{sec['labelled']} labelled; named in {sec['named']} lines, "
          f"{sec['named_wrongly']} of them not the label's")
    for src, s in fig["per_source"].items():
        print(f"  {src:5s} accuracy {s['accuracy']:.3f} (n={s['n']}; with also {s['accuracy_with_also']:.3f})")
    if "model_calls" in fig:
        m = fig["model_read"]
        print(f"  the model read {m['lines']} labelled lines ({fig['model_calls']} calls in all), right on {m['right']}")
    cal = fig["calibration"]
    print(f"  classifier-decided lines: {cal['lines']}, expected calibration error {cal['ece']:.3f}")
    for b in cal["bins"]:
        print(f"    confidence {b['from']:.1f}–{b['to']:.1f}: {b['n']:4d} lines, mean confidence "
              f"{b['confidence']:.2f}, right {b['right']:.2f}")
    print()
    print(f"{'intent':16s} {'prec':>5s} {'recall':>6s} {'f1':>5s} {'support':>7s} {'predicted':>9s}")
    for intent, v in fig["per_intent"].items():
        print(f"{intent:16s} {v['precision']:5.2f} {v['recall']:6.2f} {v['f1']:5.2f} {v['support']:7d} {v['predicted']:9d}")
    print()
    cols = [i for i in fig["per_intent"]]
    print("confusion matrix (rows = label, columns = predicted)")
    print(f"{'':16s}" + "".join(f"{SHORT[c]:>6s}" for c in cols))
    for g in cols:
        row = fig["confusion"].get(g)
        if not row:
            continue
        print(f"{g:16s}" + "".join(f"{(row.get(c) or '.')!s:>6s}" for c in cols))
    print()
    print("most frequent confusions (label -> predicted):")
    for c in fig["top_confusions"][:10]:
        print(f"  {c['label']} -> {c['predicted']}: {c['count']}")
    if show_misses:
        print()
        print("misclassified lines:")
        for r in results:
            if r.right:
                continue
            lab = r.label
            also = f" (also {lab.also})" if lab.also else ""
            print(f"  [{lab.source} {lab.session[:12]} t{lab.turn}] {lab.intent}{also} -> {r.predicted}/{r.fine}: "
                  f"{r.text[:90]}  | {r.explanation}")


def model_reader(args: argparse.Namespace, stack: contextlib.ExitStack) -> ModelIntentReader | None:
    if args.model_intents is None:
        return None
    if args.model_intents == "configured":
        settings = Settings(llm_intents=True, llm_intent_timeout_s=args.model_timeout)
        if not settings.llm_model:
            sys.exit("--model-intents configured needs XIAOER_LLM_MODEL (and OPENAI_BASE_URL for a local server)")
    else:
        if str(ROOT) not in sys.path:  # run as a script: the project root holds ``tests``
            sys.path.insert(0, str(ROOT))
        from tests import llama_server

        missing = llama_server.missing()
        if missing:
            sys.exit(missing)
        server = stack.enter_context(llama_server.LlamaServer(llama_server.model_path()))
        settings = Settings(
            llm_model=server.alias, openai_base_url=server.base_url, llm_intents=True,
            llm_intent_timeout_s=args.model_timeout, database_url="sqlite://",
        )
    reader = ModelIntentReader.from_settings(PromptSet.load(), settings)
    assert reader is not None
    return reader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shop", type=Path, default=ROOT / "knowledge", help="shop directory (default: the demo shop)")
    parser.add_argument("--corpus", type=Path, default=None,
                        help=f"real-buyer corpus directory (default: ${CORPUS_ENV} or ../shared/data/real-buyers)")
    parser.add_argument("--labels", type=Path, default=LABELS, help="labels TSV (default: eval/real-buyers/labels.tsv)")
    parser.add_argument("--context", choices=("replay", "none"), default="replay",
                        help="replay earlier buyer turns through the dialogue manager, or route each line alone")
    parser.add_argument("--no-agent-questions", action="store_true",
                        help="ignore the agent's turns: no pending question from them, and none of the bot's dropped")
    parser.add_argument("--bot-questions", choices=("agent", "keep"), default="agent",
                        help="drop the bot's own pending question when the corpus agent's turn asks "
                             "nothing (agent, the default), or keep it (keep)")
    parser.add_argument("--source", choices=sorted(CORPUS_FILES), default=None, help="only one source")
    parser.add_argument("--misses", action="store_true", help="print the misclassified lines")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    parser.add_argument("--model-intents", choices=("llama", "configured"), default=None,
                        help="a model reads the lines the classifier is unsure of: the real-model extra's "
                             "small model on llama.cpp (llama) or the configured one (configured)")
    parser.add_argument("--model-timeout", type=float, default=30.0,
                        help="seconds a model reading may take (default 30: the figure is the model's, not the clock's)")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        reader = model_reader(args, stack)
        results, meta = run(args, reader)
        if reader is not None:
            meta["model_calls"] = reader.calls
    if not results:
        sys.exit("no labelled lines")
    fig = figures(results, meta)
    print_report(fig, results, args.misses)
    if args.json:
        args.json.write_text(json.dumps(fig, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
