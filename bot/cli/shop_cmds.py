"""``xiaoer shop validate`` and ``xiaoer price``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from bot.config import Settings

ShopOpt = Annotated[
    Optional[Path],
    typer.Option("--shop", help="shop directory (default: XIAOER_SHOP_DIR or the demo shop)"),
]


def default_shop(shop: Path | None) -> Path:
    return shop if shop is not None else Settings().shop_dir


def register(app: typer.Typer) -> None:
    shop_app = typer.Typer(help="检查店铺数据 — work with a shop directory.", no_args_is_help=True)
    app.add_typer(shop_app, name="shop")

    @shop_app.command("validate")
    def validate(
        directory: Annotated[Path, typer.Argument(help="shop directory to check")],
    ) -> None:
        """Validate a shop directory; print every problem as file:line key: reason."""
        from bot.errors import ShopInvalid
        from bot.shop import load_shop

        console = Console()
        try:
            shop = load_shop(directory)
        except ShopInvalid as exc:
            for problem in exc.problems:
                console.print(f"[red]✗[/red] {problem}", highlight=False)
            console.print(f"[red]{len(exc.problems)} problem(s) in {directory}[/red]")
            raise typer.Exit(1) from None
        n_skus = sum(len(p.skus) for p in shop.products.values())
        passages = sum(len(r.sections) for r in shop.rules)
        console.print(
            f"[green]✓[/green] {shop.info.name}: {len(shop.products)} products, {n_skus} SKUs, "
            f"{len(shop.rules)} rule files ({passages} sections), {len(shop.promotions)} promotions, "
            f"{len(shop.faq)} FAQ, {len(shop.buyers)} buyers, {len(shop.orders)} orders",
            highlight=False,
        )

    @app.command("price")
    def price(
        items: Annotated[list[str], typer.Argument(help="SKU[:QTY] ..., e.g. TS01-WH-M:2")],
        shop_dir: ShopOpt = None,
        now: Annotated[
            Optional[str], typer.Option("--now", help="ISO time to price at (default: now)")
        ] = None,
        buyer: Annotated[Optional[str], typer.Option(help="buyer id (coupons they hold)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the breakdown as JSON")] = False,
    ) -> None:
        """Price a basket by the shop's promotions: discounts, 满减, one coupon, gifts, 凑单."""
        from bot.errors import ShopInvalid, TellCustomer
        from bot.pricing import parse_basket, price_basket
        from bot.shop import load_shop

        console = Console()
        try:
            shop = load_shop(default_shop(shop_dir))
        except ShopInvalid as exc:
            console.print(str(exc), highlight=False)
            raise typer.Exit(1) from None
        at = datetime.fromisoformat(now) if now else datetime.now(shop.tz)
        if at.tzinfo is None:
            at = at.replace(tzinfo=shop.tz)
        try:
            quote = price_basket(shop, parse_basket(items), at, shop.buyers.get(buyer or ""))
        except TellCustomer as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        if as_json:
            typer.echo(json.dumps(quote.to_dict(), ensure_ascii=False, indent=2))
            return
        data = quote.to_dict()
        table = Table(title=f"{shop.info.name} · {at.isoformat()}")
        for col in ("商品", "规格", "数量", "单价", "小计", "优惠"):
            table.add_column(col)
        for ln in data["lines"]:  # type: ignore[union-attr]
            table.add_row(
                ln["title"], " ".join(ln["props"].values()), str(ln["qty"]), ln["unit_price"],
                ln["total"], ",".join(ln["promotions"]) or "-",
            )
        console.print(table)
        console.print(f"原价合计 {data['list_total']}  折后小计 {data['subtotal']}")
        for fr in data["full_reductions"]:  # type: ignore[union-attr]
            console.print(f"满减 {fr['title']}: -{fr['amount']}")
        if data["coupon"]:
            c = data["coupon"]
            console.print(f"优惠券 {c['title']}: -{c['amount']}")  # type: ignore[index]
        for g in data["gifts"]:  # type: ignore[union-attr]
            console.print(f"赠品 {g['title']}: {g['gift']}")
        console.print(f"[bold]应付 {data['total']}[/bold]（共省 {data['savings']}）")
        for gap in data["gaps"]:  # type: ignore[union-attr]
            console.print(f"凑单：再买 {gap['missing']} 元可享 {gap['title']}（{gap['reward']}）")
