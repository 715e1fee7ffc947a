// The after-sales workbench: what waits (orders to ship, refunds, returns, exchanges,
// tickets) with its age, the staff actions legal on each, and the log of what was done.
// Times are shown in the shop's timezone, as the server sends them.
import { ApiError, api, el, toast } from "/static/common.js";

const $ = (id) => document.getElementById(id);
const KIND = { ship: "待发货", refund: "仅退款", return: "退货退款", exchange: "换货", ticket: "工单" };
const ACTION = {
  "order.ship": "发货",
  "return.agree": "同意",
  "return.refuse": "拒绝",
  "return.received": "确认收到退货",
  "refund.complete": "退款",
  "exchange.ship": "发出换货",
  "ticket.close": "关闭工单",
};
const state = { meta: null, items: [], kind: "all" };

/** "11月20日 20:00" from an ISO time with the shop's offset, read as written (shop time). */
function shopTime(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
  return m ? `${Number(m[2])}月${Number(m[3])}日 ${m[4]}:${m[5]}` : "";
}

function age(minutes) {
  if (minutes < 60) return `${minutes}分钟`;
  const h = Math.floor(minutes / 60);
  if (h < 24) return `${h}小时${minutes % 60 ? `${minutes % 60}分` : ""}`;
  return `${Math.floor(h / 24)}天${h % 24 ? `${h % 24}小时` : ""}`;
}

function requestKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

async function perform(body, key) {
  const res = await fetch("/api/workbench/actions", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": key },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, (data && typeof data.detail === "string" && data.detail) || `操作失败（${res.status}）`);
  return data;
}

function showLogin(message) {
  $("wb").hidden = true;
  $("login").hidden = false;
  const box = $("login-error");
  box.hidden = !message;
  box.textContent = message || "";
  $("username").focus();
}

async function doLogin(e) {
  e.preventDefault();
  try {
    const res = await api("POST", "/api/auth/agent-login", { username: $("username").value.trim(), password: $("password").value });
    $("password").value = "";
    $("me").textContent = res.username;
    await enter();
  } catch (err) {
    showLogin(err.detail || "登录失败");
  }
}

async function enter() {
  try {
    state.meta = await api("GET", "/api/workbench/meta");
  } catch (err) {
    if (err.status === 401) return showLogin("");
    toast(err.detail, "error");
    return;
  }
  $("login").hidden = true;
  $("wb").hidden = false;
  $("shop-name").textContent = `· ${state.meta.shop}`;
  $("wb-tz").textContent = `时间均为店铺时间（${state.meta.timezone}）；付款后 ${state.meta.ship_within_hours} 小时内须发货。`;
  await refresh();
}

async function refresh() {
  try {
    const [items, history] = await Promise.all([api("GET", "/api/workbench/items"), api("GET", "/api/workbench/actions?limit=30")]);
    state.items = items;
    render();
    renderHistory(history);
  } catch (err) {
    if (err.status === 401) showLogin("登录已失效，请重新登录");
    else toast(err.detail, "error");
  }
}

function render() {
  const counts = { all: state.items.length };
  for (const it of state.items) counts[it.kind] = (counts[it.kind] || 0) + 1;
  for (const b of document.querySelectorAll("[data-count]")) b.textContent = counts[b.dataset.count] || "";
  for (const t of document.querySelectorAll("#wb-tabs .tab")) t.classList.toggle("active", t.dataset.kind === state.kind);
  const shown = state.items.filter((it) => state.kind === "all" || it.kind === state.kind);
  $("wb-rows").replaceChildren(...shown.map(row));
  $("wb-empty").hidden = shown.length > 0;
}

function row(it) {
  return el(
    "tr",
    { testid: "wb-item", dataset: { kind: it.kind, tid: it.tid } },
    el("td", { class: "wb-kind" }, KIND[it.kind] || it.kind),
    el("td", {}, it.tid, it.ref ? el("div", { class: "muted" }, it.no ? `${it.kind === "ticket" ? "工单" : "售后单"} ${it.no}` : it.ref) : null),
    el("td", {}, it.buyer_nick),
    el("td", {}, it.status_text),
    el("td", {}, it.summary, it.amount ? el("div", { class: "muted" }, `¥${it.amount}`) : null),
    el(
      "td",
      { class: `wb-age${it.overdue ? " overdue" : ""}`, testid: "wb-age" },
      age(it.age_minutes),
      el("div", { class: "muted" }, `自 ${shopTime(it.since)}`),
      it.overdue ? el("div", {}, "已超时") : null,
    ),
    el("td", {}, el("div", { class: "wb-acts" }, it.actions.map((a) => el("button", {
      type: "button", class: `btn small${a === "return.refuse" ? " danger" : ""}`, testid: `wb-act-${a}`,
      onclick: () => openForm(it, a),
    }, ACTION[a] || a)))),
  );
}

function field(labelText, input) {
  return el("label", {}, labelText, input);
}

function openForm(it, action) {
  const fields = [];
  if (action === "order.ship" || action === "exchange.ship") {
    fields.push(field("快递公司", el("select", { name: "carrier", testid: "wb-carrier" }, state.meta.carriers.map((c) => el("option", { value: c }, c)))));
    fields.push(field("运单号", el("input", { name: "tracking_no", required: true, pattern: "[A-Za-z0-9-]{4,40}", testid: "wb-tracking" })));
  } else if (action === "return.refuse") {
    fields.push(field("拒绝原因（买家会看到）", el("textarea", { name: "reason", required: true, maxlength: 200, testid: "wb-reason" })));
  } else if (action === "ticket.close") {
    fields.push(field("处理结果", el("textarea", { name: "note", required: true, maxlength: 200, testid: "wb-note" })));
  }
  $("wb-form-title").textContent = `${ACTION[action]} · 订单 ${it.tid}`;
  $("wb-form-sub").textContent = it.summary;
  $("wb-fields").replaceChildren(...fields);
  $("wb-form-error").hidden = true;
  const key = requestKey(); // one key per opened form: a double click acts once
  const form = $("wb-form");
  form.onsubmit = async (e) => {
    e.preventDefault();
    const body = { action, tid: it.tid };
    if (it.ref && it.kind !== "ship" && it.kind !== "ticket") body.refund_id = it.ref;
    if (it.kind === "ticket") body.ticket_id = it.ref;
    for (const input of $("wb-fields").querySelectorAll("[name]")) body[input.name] = input.value.trim();
    $("wb-submit").disabled = true;
    try {
      const done = await perform(body, key);
      $("wb-dialog").close();
      toast(done.message, "ok");
      await refresh();
    } catch (err) {
      $("wb-form-error").hidden = false;
      $("wb-form-error").textContent = err.detail;
    } finally {
      $("wb-submit").disabled = false;
    }
  };
  $("wb-dialog").showModal();
}

function renderHistory(list) {
  $("wb-history").replaceChildren(...list.map((a) => el(
    "li",
    { class: a.status === "refused" ? "refused" : "", testid: "wb-history-item" },
    `${shopTime(a.at)} · ${a.staff} · ${a.status === "refused" ? "未执行：" : ""}${a.message}`,
  )));
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", doLogin);
  $("wb-refresh").addEventListener("click", refresh);
  $("wb-cancel").addEventListener("click", () => $("wb-dialog").close());
  for (const t of document.querySelectorAll("#wb-tabs .tab")) {
    t.addEventListener("click", () => { state.kind = t.dataset.kind; render(); });
  }
  enter().finally(() => { document.body.dataset.ready = "1"; });
});
