"""Guard violations found in the replies of a run, checked by the runner itself.

The bot guards its own drafts; the benchmark re-checks what the customer would see, so a
reply that slips through (or a flow reply that was never guarded) still counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.shop import Shop
from bot.turns import TurnResult

RAW_ID = "raw_id"
# Ids made by the id providers (a prefix and hex: T… tickets, R… after-sales, sg… drafts,
# c/m/t… conversations, messages, turns) and UUIDs: none means anything to a buyer.
_PREFIXED = re.compile(r"(?<![0-9A-Za-z])(?:sg|act|[TRcmtqx])([0-9a-f]{8,})(?![0-9A-Za-z])")
_UUID = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})(?![0-9A-Za-z])"
)


def raw_ids(text: str, usernames: Iterable[str] = ()) -> list[str]:
    """The internal ids and agent usernames in buyer-visible ``text``.

    A prefixed hex run counts when it has a letter a–f (tracking numbers and order ids are
    digits); a username counts as a whole word (「客服 demo」), never inside another word."""
    found = [m.group(0) for m in _PREFIXED.finditer(text) if re.search("[a-f]", m.group(1))]
    found += [m.group(0) for m in _UUID.finditer(text)]
    for name in usernames:
        if name and re.search(rf"(?<![0-9A-Za-z_.-]){re.escape(name)}(?![0-9A-Za-z_.-])", text):
            found.append(name)
    return list(dict.fromkeys(found))


def guard_audit(result: TurnResult, shop: Shop, buyer_id: str, said: Sequence[str] = ()) -> list[str]:
    """``code: detail`` of every guard the reply breaks, and of any internal id in it
    (``raw_id``: a buyer never sees ticket, after-sale or record ids).

    ``said`` is what the buyer wrote in this conversation so far: repeating it back (an
    order id the buyer typed, a new phone number they gave) is not another buyer's data.
    Numbers are not checked: the runner does not see the facts a reply was drafted from.
    """
    from bot.guards import DATA_LEAK, check_reply
    from bot.guards.leaks import other_buyers_data
    from bot.text.normalize import normalize

    found: list[str] = []
    ids = raw_ids(result.reply)
    if ids:
        found.append(f"{RAW_ID}: {'、'.join(ids)}")
    for flag in check_reply(result.reply, {}, shop, buyer=buyer_id, check_numbers=False):
        if flag.code != DATA_LEAK:
            found.append(str(flag))
            continue
        heard = "".join(normalize(text).replace(" ", "") for text in said)
        leaked = [
            value for value in other_buyers_data(normalize(result.reply).replace(" ", ""), shop, buyer_id)
            if value not in heard
        ]
        if leaked:
            found.append(f"{DATA_LEAK}: {'、'.join(leaked)}")
    return found
