"""Big shops and long histories for the scale benchmark.

:func:`generate_shop` writes a shop directory in the shop format: the demo shop's 33
products, orders, rules and promotions as they are, plus clones of its products under new
titles and ids (「云岚衬衫 K00042」) until the shop holds ``size`` products. A clone keeps its
original's category, SKUs (ids renamed), attributes, selling points and FAQ, and relates to
the clones of its original's related products. :func:`fill_messages` adds ``total`` stored
messages in conversations of ``per_conversation`` messages to a database.
"""

from __future__ import annotations

import itertools
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from sqlalchemy import Engine, insert

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "knowledge"

# Characters of the made-up series names (two per name): common, not goods words.
_NAME_CHARS = (
    "云岚溪月松竹梅兰菊荷枫桐柏杉桦槐柳杨桃杏梨枣栗橙柚榴莓苹果蓝青紫灰银金铜"
    "晨曦暮霞星辰雨雪霜露虹霁朗晴暖凉清澈宁静悠然素雅简约朴拙安和乐嘉禾丰盈"
    "乔木森林泉石川岳峰谷原野田园汀洲渚屿港湾帆舟桥亭台阁轩斋坊苑庭院廊巷"
)


def series_names() -> itertools.chain[str]:
    """Distinct two-character names, then three-character ones, in a fixed order."""
    chars = list(dict.fromkeys(_NAME_CHARS))
    two = ("".join(p) for p in itertools.permutations(chars, 2))
    three = ("".join(p) for p in itertools.permutations(chars, 3))
    return itertools.chain(two, three)


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def generate_shop(dst: Path, size: int) -> Path:
    """Write a shop of ``size`` products (at least the demo's 33) into ``dst``; returns ``dst``."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(DEMO, dst)
    originals = []
    for path in sorted((DEMO / "products").glob("*.yaml")):
        originals.append(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
    names = series_names()
    n_clones = max(0, size - len(originals))
    rounds = -(-n_clones // len(originals)) if n_clones else 0
    written = 0
    Dumper = getattr(yaml, "CSafeDumper", _Dumper)
    for r in range(rounds):
        in_round = originals[: n_clones - r * len(originals)]
        ids = {p["id"]: f"G{r:04d}{p['id']}" for p in in_round}
        for p in in_round:
            pid = ids[p["id"]]
            clone = dict(p)
            clone["id"] = pid
            clone["title"] = f"{next(names)}{p['category']} K{written:05d}"
            clone["price"] = p["price"]
            clone["skus"] = [
                {**s, "sku_id": pid + s["sku_id"][len(p["id"]):]} for s in p["skus"]
            ]
            clone["related"] = [ids[r_] for r_ in p.get("related", []) if r_ in ids]
            text = yaml.dump(clone, Dumper=Dumper, allow_unicode=True, sort_keys=False)
            (dst / "products" / f"{pid}.yaml").write_text(text, encoding="utf-8")
            written += 1
    return dst


def fill_messages(
    engine: Engine, total: int, *, buyers: list[str], per_conversation: int = 50, batch: int = 20_000
) -> int:
    """Insert ``total`` messages (buyer and bot in turn) in conversations of
    ``per_conversation`` messages; returns how many conversations were made."""
    from bot.conversations.sql import conversations_table, messages_table

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    n_conv = -(-total // per_conversation)
    statuses = ("bot", "bot", "bot", "closed", "waiting", "agent")
    with engine.begin() as conn:
        rows = []
        for c in range(n_conv):
            status = statuses[c % len(statuses)]
            created = start + timedelta(minutes=c)
            rows.append({
                "id": f"bench-c{c}", "buyer_id": buyers[c % len(buyers)], "status": status,
                "agent": "demo" if status == "agent" else None, "state": {}, "summary": None,
                "rating": None, "created": created,
                "updated": created + timedelta(minutes=per_conversation),
                "waiting_since": created if status == "waiting" else None,
                "message_count": min(per_conversation, total - c * per_conversation),
            })
            if len(rows) >= batch:
                conn.execute(insert(conversations_table), rows)
                rows = []
        if rows:
            conn.execute(insert(conversations_table), rows)
    made = 0
    rows = []
    for c in range(n_conv):
        created = start + timedelta(minutes=c)
        for s in range(1, min(per_conversation, total - c * per_conversation) + 1):
            rows.append({
                "id": f"bench-m{c}-{s}", "conversation_id": f"bench-c{c}", "seq": s,
                "role": "buyer" if s % 2 else "bot", "text": f"第{s}条消息：这件还有货吗" if s % 2 else "亲，有货的哦～",
                "author": None, "created": created + timedelta(seconds=s), "turn_id": None,
            })
            made += 1
            if len(rows) >= batch:
                with engine.begin() as conn:
                    conn.execute(insert(messages_table), rows)
                rows = []
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(messages_table), rows)
    return n_conv
