"""Load and validate a shop directory; report every problem at once, never half-load."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ValidationError

from bot.errors import ShopInvalid, ShopProblem
from bot.orders import ledger
from bot.shop import yamlio, yamlpool
from bot.shop.compact import compact
from bot.shop.models import (
    FaqEntry,
    FaqFile,
    Order,
    OrdersFile,
    Product,
    Promotion,
    PromotionsFile,
    RuleDoc,
    RuleFrontMatter,
    RuleSection,
    Shop,
    ShopInfo,
)
from bot.shop.yamlpool import ParsedFile

M = TypeVar("M", bound=BaseModel)

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)


class _Collector:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[ShopProblem] = []
        self.hashes: dict[str, str] = {}
        self.nodes: dict[str, yaml.Node | None] = {}  # composed only for files with problems
        self.broken_ids: set[str] = set()  # ids of files that failed: no cascade of errors

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def add(self, path: Path | str, where: str, message: str) -> None:
        file = path if isinstance(path, str) else self.rel(path)
        self.problems.append(ShopProblem(file, where, message))

    def add_at(self, path: Path, loc: str, message: str) -> None:
        """A problem found after validation, at a dotted key path inside ``path``."""
        parts: list[int | str] = [int(p) if p.isdigit() else p for p in loc.split(".")]
        line = yamlio.line_of(self.node(path), parts)
        self.add(path, f"{line} {loc}" if line else loc, message)

    def node(self, path: Path, text: str | None = None) -> yaml.Node | None:
        """The node tree of a YAML file of the shop (for line numbers), composed once."""
        rel = self.rel(path)
        if rel not in self.nodes:
            if text is None:
                try:
                    text = path.read_bytes().decode("utf-8")
                except (OSError, UnicodeDecodeError):
                    text = ""
            self.nodes[rel] = yamlio.compose(text)
        return self.nodes[rel]

    def read(self, path: Path) -> str | None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self.add(path, "", f"cannot read: {exc.strerror or exc}")
            return None
        self.hashes[self.rel(path)] = hashlib.sha256(raw).hexdigest()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.add(path, "", f"not UTF-8 ({exc.reason} at byte {exc.start})")
            return None

    def yaml_model(
        self,
        path: Path,
        model: type[M],
        wrap: str | None = None,
        tz: Any = None,
        parsed: ParsedFile | None = None,
    ) -> M | None:
        """The file's data validated as ``model``; ``parsed`` is the file already read and
        parsed elsewhere (:mod:`bot.shop.yamlpool`)."""
        text: str | None = None
        if parsed is not None:
            self.hashes[self.rel(path)] = parsed.sha256
            data = parsed.data
        else:
            text = self.read(path)
            if text is None:
                return None
            try:
                data = yamlio.load(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = str(mark.line + 1) if mark is not None else ""
                self.add(path, where, f"YAML syntax error: {getattr(exc, 'problem', exc)}")
                return None
        if isinstance(data, dict) and data.get("id") is not None:
            self.broken_ids.add(str(data["id"]))  # until it validates
        if wrap is not None:
            data = {wrap: data if data is not None else []}
        try:
            result = model.model_validate(data, context={"tz": tz})
            if isinstance(data, dict):
                self.broken_ids.discard(str(data.get("id")))
            return result
        except ValidationError as exc:
            node = self.node(path, text)
            for err in exc.errors():
                loc = list(err["loc"])
                if wrap is not None and loc and loc[0] == wrap:
                    loc = loc[1:]
                line = yamlio.line_of(node, loc)
                key = ".".join(str(p) for p in loc) or "(top level)"
                where = f"{line} {key}" if line else key
                self.add(path, where, _message(err))
            return None


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (not in the shop format)"
    if err["type"] == "missing":
        return "required key is missing"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _first(root: Path, stem: str) -> Path:
    for suffix in (".yaml", ".yml"):
        if (root / f"{stem}{suffix}").exists():
            return root / f"{stem}{suffix}"
    return root / f"{stem}.yaml"


def parse_rule(name: str, text: str, problems: _Collector | None = None) -> RuleDoc:
    """Split a rules Markdown file into its ``##`` sections."""
    meta = RuleFrontMatter()
    m = _FRONT.match(text)
    if m:
        text = text[m.end():]
        try:
            data = yaml.safe_load(m.group(1)) or {}
            meta = RuleFrontMatter.model_validate(data)
        except (yaml.YAMLError, ValidationError) as exc:
            if problems is not None:
                problems.add(f"rules/{name}", "front matter", str(exc).splitlines()[0])
    title = meta.title
    sections: list[RuleSection] = []
    heading: str | None = None
    body: list[str] = []

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            sections.append(RuleSection(heading=heading or title or Path(name).stem, text=content))

    for line in text.splitlines():
        if line.startswith("## "):
            flush()
            heading, body = line[3:].strip(), []
        elif line.startswith("# ") and heading is None and not body:
            title = title or line[2:].strip()
        else:
            body.append(line)
    flush()
    return RuleDoc(file=name, title=title or Path(name).stem, tags=meta.tags, sections=sections)


def load_shop(
    root: str | Path,
    *,
    cache_dir: Path | None = None,
    on_validated: Callable[[Shop], None] | None = None,
) -> Shop:
    """Load the shop at ``root`` or raise :class:`ShopInvalid` listing every problem.

    With ``cache_dir`` a shop that validated before is read back from there instead
    (:func:`bot.shop.cache.cached_shop`): the same shop, without parsing and validating
    every file again, as long as no file of the shop and nothing of the code has changed.
    ``on_validated`` is called with a shop validated now (not read back), once it is kept in
    ``cache_dir``."""
    if cache_dir is not None:
        from bot.shop.cache import cached_shop

        return cached_shop(Path(root), cache_dir, _validate, on_validated)
    return _validate(Path(root))


def _validate(root: Path) -> Shop:
    root = Path(root).resolve()
    c = _Collector(root)
    if not root.is_dir():
        raise ShopInvalid([ShopProblem(str(root), "", "shop directory does not exist")])

    info = None
    shop_file = _first(root, "shop")
    if not shop_file.exists():
        c.add("shop.yaml", "", "missing (every shop needs shop.yaml)")
    else:
        info = c.yaml_model(shop_file, ShopInfo)
    tz = ZoneInfo(info.timezone) if info else None

    products: dict[str, Product] = {}
    files: dict[str, Path] = {}
    pdir = root / "products"
    if not pdir.is_dir() or not _yaml_files(pdir):
        c.add("products/", "", "missing or empty (one YAML product sheet per file)")
    else:
        for path, parsed in yamlpool.parse_files(_yaml_files(pdir)):
            product = c.yaml_model(path, Product, tz=tz, parsed=parsed)
            if product is None:
                continue
            if product.id in products:
                c.add(path, "id", f"product id {product.id} is used by another file too")
            products[product.id] = product
            files[product.id] = path

    rules: list[RuleDoc] = []
    rdir = root / "rules"
    if not rdir.is_dir():
        c.add("rules/", "", "missing (Markdown files of shop rules)")
    else:
        for path in sorted(rdir.glob("*.md")):
            text = c.read(path)
            if text is not None:
                rules.append(parse_rule(path.name, text, c))

    promotions: list[Promotion] = []
    promo_file = _first(root, "promotions")
    if not promo_file.exists():
        c.add("promotions.yaml", "", "missing (write [] for no promotions)")
    else:
        parsed = c.yaml_model(promo_file, PromotionsFile, wrap="promotions", tz=tz)
        promotions = list(parsed.promotions) if parsed else []

    faq: list[FaqEntry] = []
    faq_file = _first(root, "faq")
    if faq_file.exists():
        parsed_faq = c.yaml_model(faq_file, FaqFile, wrap="faq", tz=tz)
        faq = list(parsed_faq.faq) if parsed_faq else []

    orders_file = _first(root, "orders")
    seed = None
    if not orders_file.exists():
        c.add("orders.yaml", "", "missing (buyers and orders)")
    else:
        seed = c.yaml_model(orders_file, OrdersFile, tz=tz)

    if seed is not None:
        _check_references(c, orders_file, products, promotions, seed)
    if not c.broken_ids:  # a category may live only in the product that failed
        _check_promotions(c, promo_file, products, promotions)
    _check_related(c, products, files)

    if c.problems or info is None or seed is None:
        if not c.problems:
            c.add(str(root), "", "shop could not be loaded")
        raise ShopInvalid(c.problems)
    # Equal values shared (SKU properties, prices, repeated answers): a big shop's products
    # take a fraction of the memory, in this process and in the cached copy.
    shop = compact(Shop(
        root=root,
        info=info,
        products=products,
        rules=rules,
        promotions=promotions,
        faq=faq,
        buyers={b.id: b for b in seed.buyers},
        orders=seed.orders,
        file_hashes=c.hashes,
    ))
    shop.sku_owners()  # an order line's SKU is found by key from the first turn on
    return shop


def _check_references(
    c: _Collector,
    path: Path,
    products: dict[str, Product],
    promotions: Iterable[Promotion],
    seed: OrdersFile,
) -> None:
    coupon_ids = {p.id for p in promotions if p.type == "coupon"}
    buyer_ids: set[str] = set()
    for i, buyer in enumerate(seed.buyers):
        if buyer.id in buyer_ids:
            c.add_at(path, f"buyers.{i}.id", f"buyer id {buyer.id} appears twice")
        buyer_ids.add(buyer.id)
        for coupon in buyer.coupons:
            if coupon_ids and coupon not in coupon_ids:
                c.add_at(path, f"buyers.{i}.coupons", f"unknown coupon {coupon}")
    tids: set[str] = set()
    refund_ids: set[str] = set()
    for i, order in enumerate(seed.orders):
        _check_order(c, path, i, order, products, buyer_ids, tids, refund_ids)


def _check_order(
    c: _Collector,
    path: Path,
    i: int,
    order: Order,
    products: dict[str, Product],
    buyer_ids: set[str],
    tids: set[str],
    refund_ids: set[str],
) -> None:
    at = f"orders.{i}"
    if order.tid in tids:
        c.add_at(path, f"{at}.tid", f"tid {order.tid} appears twice")
    tids.add(order.tid)
    if order.buyer not in buyer_ids:
        c.add_at(path, f"{at}.buyer", f"unknown buyer {order.buyer}")
    for j, item in enumerate(order.items):
        product = products.get(item.product)
        if product is None:
            if products and item.product not in c.broken_ids:
                c.add_at(path, f"{at}.items.{j}.product", f"unknown product {item.product}")
        elif product.sku(item.sku) is None:
            c.add_at(path, f"{at}.items.{j}.sku", f"{item.sku} is not a SKU of {item.product}")
    for j, refund in enumerate(order.refunds):
        if refund.id in refund_ids:
            c.add_at(path, f"{at}.refunds.{j}.id", f"refund id {refund.id} appears twice")
        refund_ids.add(refund.id)
        if refund.exchange_sku:
            item = order.item(refund.items[0])
            product = products.get(item.product) if item else None
            if product is not None and product.sku(refund.exchange_sku) is None:
                c.add_at(
                    path,
                    f"{at}.refunds.{j}.exchange_sku",
                    f"{refund.exchange_sku} is not a SKU of {product.id}",
                )
    for j, breach in ledger.breaches_of(order):
        c.add_at(path, f"{at}.refunds.{j}", str(breach))


def _check_promotions(
    c: _Collector, path: Path, products: dict[str, Product], promotions: list[Promotion]
) -> None:
    if not products:
        return
    categories = {p.category for p in products.values()}
    seen: set[str] = set()
    for i, promo in enumerate(promotions):
        if promo.id in seen:
            c.add_at(path, f"{i}.id", f"promotion id {promo.id} appears twice")
        seen.add(promo.id)
        for pid in promo.scope.products or []:
            if pid not in products and pid not in c.broken_ids:
                c.add_at(path, f"{i}.scope.products", f"unknown product {pid}")
        for cat in promo.scope.categories or []:
            if cat not in categories:
                c.add_at(path, f"{i}.scope.categories", f"no product has category {cat}")


def _check_related(c: _Collector, products: dict[str, Product], files: dict[str, Path]) -> None:
    for product in products.values():
        for i, rid in enumerate(product.related):
            if rid not in products and rid not in c.broken_ids:
                c.add_at(files[product.id], f"related.{i}", f"unknown product {rid}")
