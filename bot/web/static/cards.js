// Order, parcel, refund and product cards, shared by the chat page and the console.
// Card data comes from the flows; field names are read tolerantly (see `pick`).

import { el, fmtClock, fmtMoney, label, pick, parseTime } from "./common.js";

/** A card's element, or null for an unknown kind. `onPick(text)` makes order rows clickable. */
export function renderCard(card, { onPick } = {}) {
  const data = (card && card.data) || {};
  switch (card && card.kind) {
    case "order":
      return orderCard(data);
    case "orders":
      return ordersCard(data, onPick);
    case "parcel":
      return parcelCard(data);
    case "refund":
      return refundCard(data);
    case "product":
      return productCard(data);
    default:
      return null;
  }
}

function statusChip(table, code, text) {
  return el("span", { class: `chip state state-${String(code || "").toLowerCase()}`, testid: "card-status" }, text || label(table, code));
}

function itemsOf(data) {
  return Array.isArray(data.items) ? data.items : [];
}

function itemRow(item) {
  const title = pick(item, "title", "product_title", "name", "product") || "";
  let props = pick(item, "props_text", "sku_text", "spec");
  if (!props && item.props && typeof item.props === "object") props = Object.values(item.props).join(" / ");
  props = props || "";
  const qty = pick(item, "qty", "quantity");
  const paid = pick(item, "paid", "price");
  return el(
    "li",
    { class: "card-item", testid: "card-item" },
    el("span", { class: "item-title" }, title),
    props ? el("span", { class: "item-props" }, props) : null,
    el("span", { class: "item-qty" }, qty !== undefined ? `×${qty}` : ""),
    el("span", { class: "item-paid" }, fmtMoney(paid)),
  );
}

function sortedTraces(ship) {
  const traces = Array.isArray(ship.traces) ? [...ship.traces] : [];
  traces.sort((a, b) => (parseTime(a.time) || 0) - (parseTime(b.time) || 0));
  return traces;
}

function latestTrace(ship) {
  const given = pick(ship, "latest_trace", "last_trace");
  if (given) return typeof given === "string" ? { desc: given } : given;
  const traces = sortedTraces(ship);
  return traces.length ? traces[traces.length - 1] : null;
}

function trackingBlock(ship) {
  const company = pick(ship, "company", "carrier");
  const no = pick(ship, "tracking_no", "tracking_number", "waybill");
  if (!company && !no) return null;
  const latest = latestTrace(ship);
  const traces = sortedTraces(ship);
  return el(
    "div",
    { class: "card-ship" },
    el(
      "div",
      { class: "ship-line" },
      el("span", { class: "muted" }, company || "快递"),
      no ? el("span", { class: "tracking-no mono", testid: "tracking-no" }, no) : null,
    ),
    latest
      ? el(
          "div",
          { class: "trace latest", testid: "latest-trace" },
          el("span", { class: "dot" }),
          el("span", { class: "trace-desc" }, pick(latest, "desc", "text") || ""),
          latest.time ? el("span", { class: "trace-time muted" }, fmtClock(latest.time)) : null,
        )
      : null,
    traces.length > 1
      ? el(
          "details",
          { class: "traces" },
          el("summary", {}, `全部物流（${traces.length}条）`),
          el(
            "ol",
            {},
            [...traces].reverse().map((t) => el("li", {}, el("span", { class: "trace-time muted" }, fmtClock(t.time)), " ", t.desc || "")),
          ),
        )
      : null,
  );
}

function orderCard(d) {
  const tid = pick(d, "tid", "order_id", "id");
  const ship = d.shipping && typeof d.shipping === "object" ? d.shipping : d;
  const refunds = Array.isArray(d.refunds) ? d.refunds : [];
  return el(
    "div",
    { class: "card card-order", testid: "card-order", dataset: { tid: tid || "" } },
    el(
      "div",
      { class: "card-head" },
      el("span", { class: "card-kind" }, "订单"),
      el("span", { class: "mono" }, tid || ""),
      statusChip("order_status", d.status, pick(d, "status_text", "status_label")),
    ),
    el("ul", { class: "card-items" }, itemsOf(d).map(itemRow)),
    pick(d, "total_paid", "total") !== undefined
      ? el("div", { class: "card-total" }, "实付 ", el("strong", {}, fmtMoney(pick(d, "total_paid", "total"))))
      : null,
    trackingBlock(ship),
    refunds.length
      ? el("div", { class: "card-note" }, refunds.map((r) => `${r.type_text || label("refund_type", r.type)}：${r.status_text || label("refund_status", r.status)}`).join("；"))
      : null,
  );
}

function ordersCard(d, onPick) {
  const orders = Array.isArray(d) ? d : Array.isArray(d.orders) ? d.orders : [];
  return el(
    "div",
    { class: "card card-orders", testid: "card-orders" },
    el("div", { class: "card-head" }, el("span", { class: "card-kind" }, "我的订单"), el("span", { class: "muted" }, `${orders.length}笔`)),
    el(
      "ul",
      { class: "card-items" },
      orders.map((o) => {
        const first = itemsOf(o)[0] || {};
        const what = typeof o.items === "string" ? o.items : pick(first, "title", "product_title", "name") || pick(o, "title") || "";
        const tid = pick(o, "tid", "order_id");
        const pickable = onPick && tid;
        return el(
          "li",
          {
            class: `card-item${pickable ? " pickable" : ""}`,
            testid: "card-orders-row",
            role: pickable ? "button" : null,
            tabindex: pickable ? "0" : null,
            title: pickable ? `查看订单 ${tid}` : null,
            onclick: pickable ? () => onPick(String(tid)) : null,
            onkeydown: pickable ? (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), onPick(String(tid))) : null,
          },
          el("span", { class: "mono" }, pick(o, "tid", "order_id") || ""),
          el("span", { class: "item-title", title: what }, what),
          statusChip("order_status", o.status, pick(o, "status_text", "status_label")),
          el("span", { class: "item-paid" }, fmtMoney(pick(o, "total_paid", "total"))),
        );
      }),
    ),
  );
}

function parcelCard(d) {
  const ship = d.shipping && typeof d.shipping === "object" ? { ...d, ...d.shipping } : d;
  const signed = pick(ship, "signed_at");
  const state = pick(d, "status_text", "state_text") || (signed ? "已签收" : "运输中");
  const tid = pick(d, "tid", "order_id");
  return el(
    "div",
    { class: "card card-parcel", testid: "card-parcel" },
    el(
      "div",
      { class: "card-head" },
      el("span", { class: "card-kind" }, "物流"),
      tid ? el("span", { class: "mono" }, tid) : null,
      statusChip("order_status", signed ? "signed" : "transit", state),
    ),
    itemsOf(d).length ? el("ul", { class: "card-items" }, itemsOf(d).map(itemRow)) : null,
    trackingBlock(ship) || el("div", { class: "muted" }, "暂无物流信息"),
  );
}

function refundCard(d) {
  return el(
    "div",
    { class: "card card-refund", testid: "card-refund" },
    el(
      "div",
      { class: "card-head" },
      el("span", { class: "card-kind" }, pick(d, "type_text") || label("refund_type", d.type) || "售后"),
      pick(d, "number") ? el("span", { class: "mono" }, `售后单 ${d.number}`) : null,
      statusChip("refund_status", d.status, pick(d, "status_text")),
    ),
    pick(d, "tid") ? el("div", { class: "muted" }, `订单 ${d.tid}`) : null,
    typeof d.items === "string" && d.items ? el("div", {}, d.items) : null,
    pick(d, "amount") !== undefined ? el("div", { class: "card-total" }, "金额 ", el("strong", {}, fmtMoney(d.amount))) : null,
    pick(d, "reason") ? el("div", { class: "muted" }, `原因：${d.reason}`) : null,
    pick(d, "exchange_to", "exchange_sku") ? el("div", { class: "muted" }, `换为：${pick(d, "exchange_to", "exchange_sku")}`) : null,
  );
}

function productCard(d) {
  const points = Array.isArray(d.selling_points) ? d.selling_points.slice(0, 3) : [];
  return el(
    "div",
    { class: "card card-product", testid: "card-product" },
    el("div", { class: "card-head" }, el("span", { class: "card-kind" }, "商品"), el("span", { class: "item-title" }, pick(d, "title", "name") || "")),
    pick(d, "price") !== undefined ? el("div", { class: "card-total" }, el("strong", {}, fmtMoney(d.price))) : null,
    points.length ? el("ul", { class: "points" }, points.map((p) => el("li", {}, p))) : null,
  );
}
