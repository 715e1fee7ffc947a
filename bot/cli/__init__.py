"""The ``xiaoer`` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import typer

from bot.cli import admin_cmds, db_cmds, eval_cmds, report_cmds, retrieval_cmds, serve_cmds, shop_cmds

app = typer.Typer(
    help=(
        "店小二 xiaoer — 淘宝店铺客服系统。\n\n"
        "Customer service for Taobao-style shops: a deterministic after-sales bot, "
        "grounded sales replies drafted for agents, and transcript benchmarks."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

for module in (shop_cmds, serve_cmds, retrieval_cmds, eval_cmds, admin_cmds, db_cmds, report_cmds):
    module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
