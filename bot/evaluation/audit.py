"""Guard violations found in the replies of a run, checked by the runner itself.

The bot guards its own drafts; the benchmark re-checks what the customer would see, so a
reply that slips through (or a flow reply that was never guarded) still counts.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.shop import Shop
from bot.turns import TurnResult


def guard_audit(result: TurnResult, shop: Shop, buyer_id: str, said: Sequence[str] = ()) -> list[str]:
    """``code: detail`` of every guard the reply breaks.

    ``said`` is what the buyer wrote in this conversation so far: repeating it back (an
    order id the buyer typed, a new phone number they gave) is not another buyer's data.
    Numbers are not checked: the runner does not see the facts a reply was drafted from.
    """
    from bot.guards import DATA_LEAK, check_reply
    from bot.guards.leaks import other_buyers_data
    from bot.text.normalize import normalize

    found: list[str] = []
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
