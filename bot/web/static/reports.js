// The reports page: 运营报告 (headline figures, charts drawn by the server as SVG, per day
// and per agent) and 复盘 (conversations to review, exported as a transcript suite).

import { ApiError, api, el, fmtClock, label, loadLabels, store, submitAgentLogin } from "./common.js";

const $ = (id) => document.getElementById(id);
const AUTH_KEY = "xiaoer.agent"; // shared with the console: one login for both pages
const NO_DATA = "暂无数据";

const state = { auth: store(AUTH_KEY), chosen: new Set(), items: [] };

function token() {
  return state.auth && state.auth.token;
}

async function call(method, path, body) {
  try {
    return await api(method, path, body, token());
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showLogin("请先登录");
    throw err;
  }
}

function showLogin(message) {
  state.auth = null;
  store(AUTH_KEY, null);
  $("reports").hidden = true;
  $("login").hidden = false;
  const box = $("login-error");
  box.hidden = !message || message === "请先登录";
  box.textContent = message || "";
  document.body.dataset.ready = "1";
}

async function doLogin(e) {
  await submitAgentLogin(e, async (auth) => {
    state.auth = auth;
    store(AUTH_KEY, state.auth);
    await enter();
  });
}

function query() {
  const q = new URLSearchParams();
  if ($("since").value) q.set("since", $("since").value);
  if ($("until").value) q.set("until", $("until").value);
  return q;
}

function withQuery(path, extra) {
  const q = query();
  for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// ---------- 运营报告 ----------

function svgNode(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = doc.documentElement;
  if (!root || root.nodeName !== "svg") return el("p", { class: "muted" }, "图表无法显示");
  return document.importNode(root, true);
}

function pct(rate) {
  return rate && rate.value !== null && rate.value !== undefined ? `${(rate.value * 100).toFixed(1)}%` : NO_DATA;
}

/** Seconds as "45秒", "3分05秒", "2小时07分" (as the server's cards write them). */
function duration(seconds) {
  const v = Math.round(seconds);
  const pad = (n) => String(n).padStart(2, "0");
  if (v < 60) return `${v}秒`;
  if (v < 3600) return `${Math.floor(v / 60)}分${pad(v % 60)}秒`;
  return `${Math.floor(v / 3600)}小时${pad(Math.floor((v % 3600) / 60))}分`;
}

function secs(s) {
  if (!s || s.mean === null || s.mean === undefined) return NO_DATA;
  return `${duration(s.mean)}（${s.count}次）`;
}

function satisfaction(f) {
  const s = f.satisfaction;
  if (!s.rated) return "暂无评价";
  return `${pct(s.satisfied)} · 均分 ${s.mean}（${s.rated}）`;
}

const COLUMNS = [
  ["会话", (f) => String(f.conversations)],
  ["询单转化率", (f) => `${pct(f.conversion)}（${f.conversion.numerator}/${f.conversion.denominator}）`],
  ["机器人首次响应", (f) => (f.bot ? secs(f.bot.first) : "—")],
  ["机器人平均响应", (f) => (f.bot ? secs(f.bot.average) : "—")],
  ["人工首次响应", (f) => secs(f.agents.first)],
  ["人工平均响应", (f) => secs(f.agents.average)],
  ["满意度", satisfaction],
  ["投诉率", (f) => pct(f.complaint)],
  ["转人工率", (f) => pct(f.handoff)],
  ["草稿 采纳/修改/驳回", (f) => `${f.drafts.accepted}/${f.drafts.edited}/${f.drafts.rejected}`],
];

function table(first, rows, testid) {
  if (!rows.length) return el("p", { class: "empty-note" }, NO_DATA);
  return el(
    "table",
    { class: "figures", testid },
    el("thead", {}, el("tr", {}, el("th", {}, first), COLUMNS.map(([h]) => el("th", {}, h)))),
    el("tbody", {}, rows.map(([name, f]) => el("tr", { testid: `${testid}-row` }, el("td", {}, name), COLUMNS.map(([, fn]) => el("td", {}, fn(f)))))),
  );
}

async function loadReport() {
  const view = await call("GET", withQuery("/api/agent/reports/view"));
  $("window").textContent = `统计区间：${view.window} · 共 ${view.report.total.conversations} 段会话`;
  $("kpis").replaceChildren(
    ...view.cards.map((c) =>
      el(
        "div",
        { class: `kpi${c.value.startsWith(NO_DATA) || c.value === "暂无评价" ? " nodata" : ""}`, testid: "kpi", dataset: { label: c.label } },
        el("div", { class: "kpi-label" }, c.label),
        el("div", { class: "kpi-value", testid: "kpi-value" }, c.value),
        el("div", { class: "kpi-note" }, c.note),
      ),
    ),
  );
  $("charts").replaceChildren(...Object.entries(view.charts).map(([id, svg]) => el("div", { class: "chart-box", dataset: { chart: id } }, svgNode(svg))));
  $("by-day").replaceChildren(table("日期", view.report.days.map((d) => [d.day, d]), "day-table"));
  $("by-agent").replaceChildren(table("客服", view.report.agents.map((a) => [a.agent, a]), "agent-table"));
  $("download-html").href = withQuery("/api/agent/reports/download", { format: "html" });
  $("download-csv").href = withQuery("/api/agent/reports/download", { format: "csv" });
}

// ---------- 复盘 ----------

const KIND_ZH = { not_converted: "询单未转化", draft_rejected: "草稿被驳回", draft_edited: "草稿被大幅修改" };

function kinds() {
  return [...$("review-kinds").querySelectorAll("input:checked")].map((i) => i.value);
}

function draftPair(d) {
  const right = d.status === "rejected"
    ? el("div", { class: "refused" }, el("b", {}, "驳回原因"), d.reject_reason || "")
    : el("div", { class: "sent" }, el("b", {}, `客服发送（改动 ${Math.round((d.edit_ratio || 0) * 100)}%）`), d.sent || "");
  return el("div", { class: "draft-pair", testid: "review-draft" }, el("div", {}, el("b", {}, `草稿 · ${label("intent", d.intent)}`), d.draft), right);
}

function reviewItem(item) {
  const chosen = state.chosen.has(item.conversation_id);
  const box = el("input", {
    type: "checkbox",
    testid: "review-pick",
    "aria-label": `选择 ${item.buyer_nick} 的对话`,
    checked: chosen,
    onchange: (e) => {
      if (e.target.checked) state.chosen.add(item.conversation_id);
      else state.chosen.delete(item.conversation_id);
      renderReview();
    },
  });
  return el(
    "article",
    { class: `review-item${chosen ? " chosen" : ""}`, testid: "review-item", dataset: { conversationId: item.conversation_id } },
    el(
      "div",
      { class: "review-top" },
      box,
      el("span", { class: "review-nick" }, item.buyer_nick),
      el("span", { class: "muted tiny" }, fmtClock(item.started)),
      item.kinds.map((k) => el("span", { class: `kind ${k}`, testid: "review-kind" }, KIND_ZH[k] || k)),
    ),
    el("ul", { class: "problems", testid: "review-problems" }, item.problems.map((p) => el("li", {}, p))),
    item.drafts.length ? el("div", { class: "drafts" }, item.drafts.map(draftPair)) : null,
    el(
      "details",
      {},
      el("summary", {}, `对话记录（${item.transcript.length} 条）`),
      el(
        "ol",
        { class: "transcript", testid: "review-transcript" },
        item.transcript.map((line) =>
          el(
            "li",
            { class: line.role },
            el("span", { class: "who" }, `${line.speaker} ${fmtClock(line.at)}`),
            el("span", {}, line.text, line.intent ? el("span", { class: "intent" }, label("intent", line.intent)) : null),
          ),
        ),
      ),
    ),
  );
}

function renderReview() {
  const list = $("review-list");
  if (!state.items.length) {
    list.replaceChildren(el("p", { class: "empty-note", testid: "review-empty" }, "这段时间没有需要复盘的对话"));
  } else {
    list.replaceChildren(...state.items.map(reviewItem));
  }
  const n = state.chosen.size;
  $("export").disabled = n === 0;
  $("export").textContent = n ? `导出所选 ${n} 段为评测用例` : "导出所选为评测用例";
  $("select-all").checked = state.items.length > 0 && state.items.every((i) => state.chosen.has(i.conversation_id));
}

async function loadReview() {
  const chosenKinds = kinds();
  if (!chosenKinds.length) {
    state.items = [];
  } else {
    const q = query();
    for (const k of chosenKinds) q.append("kind", k);
    state.items = await call("GET", `/api/agent/review?${q.toString()}`);
  }
  const shown = new Set(state.items.map((i) => i.conversation_id));
  for (const id of [...state.chosen]) if (!shown.has(id)) state.chosen.delete(id);
  renderReview();
}

async function exportChosen() {
  const ids = state.items.map((i) => i.conversation_id).filter((id) => state.chosen.has(id));
  if (!ids.length) return;
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const res = await fetch("/api/agent/review/export", {
    method: "POST", headers, credentials: "same-origin", body: JSON.stringify({ conversation_ids: ids }),
  });
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    $("export").title = data.detail || "导出失败";
    return;
  }
  const blob = await res.blob();
  const name = (/filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "") || [])[1] || "review.yaml";
  const a = el("a", { href: URL.createObjectURL(blob), download: name, testid: "export-link" });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

// ---------- start ----------

async function enter() {
  try {
    await Promise.all([loadReport(), loadReview()]);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) $("window").textContent = err.detail || "加载失败";
    if (err instanceof ApiError && err.status === 401) return;
  }
  $("login").hidden = true;
  $("reports").hidden = false;
  if (state.auth) $("me").textContent = `${state.auth.username} · ${state.auth.role === "admin" ? "管理员" : "客服"}`;
  document.body.dataset.ready = "1";
}

async function refresh(e) {
  if (e) e.preventDefault();
  document.body.dataset.ready = "0";
  try {
    await Promise.all([loadReport(), loadReview()]);
  } catch (err) {
    $("window").textContent = err.detail || "加载失败";
  }
  document.body.dataset.ready = "1";
}

async function main() {
  await loadLabels();
  $("login-form").addEventListener("submit", doLogin);
  $("filters").addEventListener("submit", refresh);
  $("review-kinds").addEventListener("change", () => loadReview().catch(() => {}));
  $("select-all").addEventListener("change", (e) => {
    for (const i of state.items) (e.target.checked ? state.chosen.add(i.conversation_id) : state.chosen.delete(i.conversation_id));
    renderReview();
  });
  $("export").addEventListener("click", () => exportChosen().catch(() => {}));
  await enter();
}

main();
