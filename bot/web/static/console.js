// The agents' live console: queue, conversation with each bot turn's intent/action/sources,
// the suggestion panel (accept / edit / reject), take-over and hand-back, live over SSE.

import {
  ApiError,
  api,
  debounce,
  el,
  fmtClock,
  fmtDuration,
  label,
  listen,
  loadLabels,
  parseTime,
  statusBadge,
  store,
  submitAgentLogin,
  toast,
  vipBadge,
} from "./common.js";
import { renderCard } from "./cards.js";

const $ = (id) => document.getElementById(id);
const AUTH_KEY = "xiaoer.agent";
const EVENT_KINDS = ["message", "turn", "status", "suggestion.created", "suggestion.decided", "draft.delta"];
const RANK = { waiting: 0, agent: 2, bot: 3, closed: 4 };
const TICKET_KIND = { urge_shipping: "催发货", handoff: "转人工", complaint: "投诉", low_rating: "差评回访", other: "其他" };

const state = {
  auth: null, // {token, username, role}
  list: [],
  filter: "all",
  selectedId: null,
  detail: null,
  selectedSuggestion: null, // suggestion id the keys act on
  mode: null, // {id, kind: "edit"|"reject", text, stale, suggestion}
  refused: null, // {id, kind: "accept"|"edit", text, detail}: the guards refused what the agent sent
  stream: null,
  busy: false,
  hovering: false, // the pointer is over the queue: keep its order until it leaves
  drafting: new Map(), // turn_id -> {conversation_id, intent, text}: drafts being written
  replyOpen: null, // {conversationId, question, suggestionId, reason}: the reply box a rejected draft opened
  composerFlags: null, // {text, flags, details, refused}: the guards on the agent's own text
};

// ---------- auth ----------

function token() {
  return state.auth && state.auth.token;
}

async function call(method, path, body) {
  try {
    return await api(method, path, body, token());
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403) && path.startsWith("/api/agent/conversations") && method === "GET") {
      showLogin(err.status === 403 ? "当前账号无权使用客服工作台，请用客服账号登录" : "请先登录");
    }
    throw err;
  }
}

function showLogin(message) {
  if (state.stream) state.stream.close();
  state.stream = null;
  state.auth = null;
  store(AUTH_KEY, null);
  $("workspace").hidden = true;
  $("shortcuts").hidden = true;
  $("topbar-right").hidden = true;
  $("login").hidden = false;
  const box = $("login-error");
  box.hidden = !message || message === "请先登录";
  box.textContent = message || "";
  $("username").focus();
}

async function doLogin(e) {
  await submitAgentLogin(e, async (auth) => {
    state.auth = auth;
    store(AUTH_KEY, state.auth);
    await enter();
  });
}

async function logout() {
  await api("POST", "/api/auth/logout").catch(() => {});
  showLogin("");
}

async function enter() {
  try {
    await refreshList();
  } catch (err) {
    return;
  }
  $("login").hidden = true;
  $("workspace").hidden = false;
  $("shortcuts").hidden = false;
  $("topbar-right").hidden = false;
  const role = state.auth.role === "admin" ? "管理员" : "客服";
  $("me").replaceChildren(el("span", { class: "avatar small" }, (state.auth.username || "?").slice(0, 1)), ` ${state.auth.username} · ${role}`);
  openStream();
  if (!state.selectedId && state.list.length) select(visibleList()[0]?.id);
  document.body.dataset.ready = "1";
}

// ---------- queue ----------

function sortList(items) {
  // A person asked for comes first; a draft waiting for review (its timer answers the buyer
  // anyway) next; then conversations with drafts, then the rest.
  const rank = (c) =>
    c.status === "waiting" ? (c.waiting_for_draft ? 0.5 : 0) : c.status !== "closed" && c.pending_suggestions > 0 ? 1 : RANK[c.status] ?? 5;
  return [...items].sort((a, b) => {
    const r = rank(a) - rank(b);
    if (r) return r;
    if (a.status === "waiting") return (parseTime(a.waiting_since) || 0) - (parseTime(b.waiting_since) || 0);
    return (parseTime(b.updated) || 0) - (parseTime(a.updated) || 0);
  });
}

function visibleList() {
  if (state.filter === "all") return state.list.filter((c) => c.status !== "closed" || c.id === state.selectedId);
  return state.list.filter((c) => c.status === state.filter);
}

/** The queue's order, except that while the pointer is over it the rows stay where they
 * are (new ones go to the end), so a live update never moves a row from under the cursor. */
function arrange(items) {
  const sorted = sortList(items);
  if (!state.hovering || !state.list.length) return sorted;
  const pos = new Map(state.list.map((c, i) => [c.id, i]));
  const key = (c) => (pos.has(c.id) ? pos.get(c.id) : 1e6 + sorted.indexOf(c));
  return [...sorted].sort((a, b) => key(a) - key(b));
}

async function refreshList() {
  const items = await call("GET", "/api/agent/conversations");
  state.list = arrange(items || []);
  renderQueue();
}

const scheduleList = debounce(() => refreshList().catch(() => {}), 120);

function lastText(c) {
  const m = c.last_message;
  if (!m) return "";
  if (typeof m === "string") return m;
  const who = { buyer: "", bot: "[机器人] ", agent: "[客服] ", system: "[系统] " }[m.role] || "";
  return who + (m.text || "");
}

function renderQueue() {
  const counts = { all: 0, waiting: 0, agent: 0, bot: 0 };
  for (const c of state.list) {
    if (c.status !== "closed") counts.all += 1;
    if (c.status in counts) counts[c.status] += 1;
  }
  for (const k of Object.keys(counts)) $(`count-${k}`).textContent = counts[k] || "";
  document.title = counts.waiting ? `(${counts.waiting}) 客服工作台 · 店小二` : "客服工作台 · 店小二";

  const items = visibleList();
  const queue = $("queue");
  if (!items.length) {
    queue.replaceChildren(el("div", { class: "empty small" }, "暂无会话"));
    return;
  }
  queue.replaceChildren(
    ...items.map((c) => {
      const selected = c.id === state.selectedId;
      const mine = c.status === "agent" && c.agent === state.auth.username;
      return el(
        "div",
        {
          class: `q-item status-${c.status}${selected ? " selected" : ""}`,
          role: "option",
          "aria-selected": String(selected),
          testid: "queue-item",
          dataset: { conversationId: c.id, status: c.status },
          // mousedown, not click: the queue is redrawn on every live update, and a redraw
          // between press and release would swallow a click
          onmousedown: (e) => { if (e.button === 0) select(c.id); },
        },
        el(
          "div",
          { class: "q-top" },
          el("span", { class: "q-nick", testid: "queue-nick" }, c.buyer_nick || c.buyer_id),
          vipBadge(c.vip_level),
          c.status === "waiting"
            ? el("span", { class: "q-time waiting-time", testid: "waiting-time", dataset: { since: c.waiting_since || c.updated || "" } }, "")
            : el("span", { class: "q-time muted" }, fmtClock(c.updated)),
        ),
        el(
          "div",
          { class: "q-mid" },
          statusBadge(c.status),
          c.status === "agent" && c.agent ? el("span", { class: `chip ${mine ? "mine" : ""}` }, mine ? "我接待" : c.agent) : null,
          c.pending_suggestions ? el("span", { class: "chip draft", testid: "pending-count" }, `待审 ${c.pending_suggestions}`) : null,
          c.waiting_for_draft ? el("span", { class: "chip parked", testid: "waiting-draft" }, "草稿待审核") : null,
        ),
        el("div", { class: "q-last" }, lastText(c)),
      );
    }),
  );
  tick();
  const sel = queue.querySelector(".selected");
  if (sel) sel.scrollIntoView({ block: "nearest" });
}

/** Update every waiting-time counter (queue and thread header) once a second. */
function tick() {
  const now = Date.now();
  document.querySelectorAll("[data-since]").forEach((node) => {
    const since = parseTime(node.dataset.since);
    node.textContent = since ? `等待 ${fmtDuration(now + (state.skew || 0) - since.getTime())}` : "";
  });
  document.querySelectorAll("[data-due]").forEach((node) => {
    const due = parseTime(node.dataset.due);
    if (!due) return;
    const left = due.getTime() - now - (state.skew || 0); // the server's clock may run apart (demo_now)
    node.textContent = left > 0 ? `${fmtDuration(left)}后${node.dataset.then}` : `即将${node.dataset.then}`;
  });
}

function move(delta) {
  const items = visibleList();
  if (!items.length) return;
  let idx = items.findIndex((c) => c.id === state.selectedId);
  idx = idx < 0 ? 0 : Math.min(items.length - 1, Math.max(0, idx + delta));
  select(items[idx].id);
}

// ---------- conversation ----------

async function select(id) {
  if (!id) return;
  if (id !== state.selectedId) {
    state.selectedId = id;
    state.mode = null;
    state.selectedSuggestion = null;
    state.detail = null;
    state.composerFlags = null;
    renderQueue();
  }
  await refreshDetail(true);
}

async function refreshDetail(scrollToEnd = false) {
  const id = state.selectedId;
  if (!id) return;
  let detail;
  try {
    detail = await call("GET", `/api/agent/conversations/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err.status !== 401 && err.status !== 403) toast(err.detail || "加载会话失败", "error");
    return;
  }
  if (id !== state.selectedId) return;
  if (detail.now) state.skew = (parseTime(detail.now)?.getTime() || Date.now()) - Date.now();
  const thread = $("thread");
  const nearEnd = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
  state.detail = detail;
  renderDetail();
  if (scrollToEnd || nearEnd) thread.scrollTop = thread.scrollHeight;
}

const scheduleDetail = debounce(() => refreshDetail(false), 80);

function conv() {
  return (state.detail && state.detail.conversation) || {};
}

function listEntry() {
  return state.list.find((c) => c.id === state.selectedId) || {};
}

function renderDetail() {
  const b = (state.detail && state.detail.buyer) || {};
  const c = { buyer_nick: b.nick, vip_level: b.vip_level, ...listEntry(), ...conv() };
  $("thread-empty").hidden = true;
  $("thread-head").hidden = false;
  $("thread-pane").dataset.conversationId = state.selectedId;
  $("thread-pane").dataset.status = c.status || "";
  $("t-nick").textContent = c.buyer_nick || c.buyer_id || "";
  $("t-vip").replaceChildren(vipBadge(c.vip_level));
  $("t-status").replaceChildren(statusBadge(c.status), c.status === "agent" && c.agent ? el("span", { class: "chip" }, `接待：${c.agent}`) : "");
  const wait = $("t-wait");
  if (c.status === "waiting" && c.waiting_since) wait.dataset.since = c.waiting_since;
  else delete wait.dataset.since;
  wait.textContent = "";
  tick();

  const mine = c.status === "agent" && c.agent === state.auth.username;
  $("takeover-btn").hidden = mine || c.status === "closed";
  $("takeover-btn").textContent = "";
  $("takeover-btn").append(c.status === "agent" && !mine ? "改由我接管 " : "接管 ", el("kbd", {}, "T"));
  $("release-btn").hidden = c.status !== "agent" && c.status !== "waiting";
  const replying = state.replyOpen && state.replyOpen.conversationId === state.selectedId && c.status !== "closed";
  $("agent-composer").hidden = !(mine || replying);
  const question = $("composer-question");
  question.hidden = !replying || mine;
  question.replaceChildren();
  if (replying) {
    question.append(`回复买家的问题：「${state.replyOpen.question}」（发送即接管会话）`);
    const open = state.replyOpen;
    if (state.detail && state.detail.can_redraft && open.suggestionId) {
      question.append(
        " ",
        el("button", { type: "button", class: "btn small", testid: "regenerate-button",
          onclick: () => regenerate({ id: open.suggestionId, conversation_id: open.conversationId }, open.reason) },
          "按驳回原因重新生成"),
      );
    }
  }
  renderComposerFlags();

  const summary = $("t-summary");
  summary.hidden = !c.summary;
  summary.textContent = c.summary ? `转人工摘要：${c.summary}` : "";

  renderThread();
  renderSuggestions();
  renderBuyerPanel();
}

/** Link each bot/agent message to the turn that produced it. */
function turnIndex() {
  const d = state.detail || {};
  const turns = d.turns || [];
  const byId = new Map(turns.map((t) => [t.turn_id, t]));
  const bySuggestionText = new Map();
  for (const s of d.suggestions || []) {
    if (s.final_text && byId.has(s.turn_id)) bySuggestionText.set(s.final_text.trim(), { turn: byId.get(s.turn_id), suggestion: s });
  }
  const used = new Set();
  return (msg) => {
    if (msg.turn_id && byId.has(msg.turn_id) && (msg.role === "bot" || msg.role === "agent")) {
      const s = (d.suggestions || []).find((x) => x.turn_id === msg.turn_id && x.status !== "pending");
      return { turn: byId.get(msg.turn_id), suggestion: s };
    }
    if (msg.role === "bot") {
      const t = turns.find((x) => !used.has(x.turn_id) && x.reply && x.reply.trim() === (msg.text || "").trim());
      if (t) {
        used.add(t.turn_id);
        return { turn: t };
      }
    }
    if (msg.role === "bot" || msg.role === "agent") {
      const hit = bySuggestionText.get((msg.text || "").trim());
      if (hit) return hit;
    }
    return null;
  };
}

function chip(cls, text, attrs = {}) {
  return el("span", { class: `chip ${cls}`, ...attrs }, text);
}

function turnMeta(turn, suggestion) {
  const sources = turn.sources || [];
  return el(
    "div",
    { class: "turn-meta", testid: "turn-meta", dataset: { turnId: turn.turn_id } },
    chip("intent", `意图 ${label("intent", turn.intent)}`, { testid: "turn-intent", title: turn.fine_intent || turn.intent }),
    chip("action", `动作 ${turn.action ? label("action", turn.action) : "无"}`, { testid: "turn-action", title: turn.action || "none" }),
    turn.handoff ? chip("handoff", "转人工") : null,
    suggestion ? chip("decided", `${label("suggestion_status", suggestion.status)}${suggestion.decided_by ? " · " + suggestion.decided_by : ""}`) : null,
    (turn.flags || []).map((f) => chip("flag", label("flag", String(f).split(":")[0].trim()), { testid: "turn-flag", title: f })),
    sources.length
      ? el("span", { class: "sources" }, "来源 ", sources.map((s) => chip("source", s.citation, { testid: "turn-source", title: s.title || s.citation })))
      : chip("source none", "无来源"),
    turn.latency_ms ? el("span", { class: "muted tiny" }, `${Math.round(turn.latency_ms)}ms`) : null,
  );
}

function renderThread() {
  const d = state.detail || {};
  const find = turnIndex();
  const nodes = [];
  const shownTurns = new Set();
  for (const m of d.messages || []) {
    if (m.role === "system") {
      nodes.push(el("div", { class: "t-system", testid: "thread-system" }, m.text));
      continue;
    }
    const link = find(m);
    const who =
      { buyer: "买家", bot: m.author ? `机器人 · ${m.author} 审核发送` : "机器人", agent: m.author ? `客服 ${m.author}` : "客服" }[m.role] || m.role;
    const node = el(
      "div",
      { class: `t-msg t-${m.role}`, testid: `thread-${m.role}`, dataset: { id: m.id } },
      el("div", { class: "t-who" }, who, " ", el("span", { class: "muted" }, fmtClock(m.created))),
      el("div", { class: "t-text", testid: "thread-text" }, m.text),
    );
    if (link && link.turn) {
      shownTurns.add(link.turn.turn_id);
      const cards = (link.turn.cards || []).map((card) => renderCard(card)).filter(Boolean);
      if (cards.length) node.append(el("div", { class: "t-cards" }, cards));
      node.append(turnMeta(link.turn, link.suggestion));
    }
    nodes.push(node);
  }
  // Drafts still waiting for an agent have no message yet: show where they stand.
  for (const t of d.turns || []) {
    if (shownTurns.has(t.turn_id) || t.delivered !== false || !t.suggestion_id) continue;
    const s = (d.suggestions || []).find((x) => x.id === t.suggestion_id || x.turn_id === t.turn_id);
    if (!s || s.status !== "pending") continue;
    nodes.push(el("div", { class: "t-msg t-draft", testid: "thread-draft" }, el("div", { class: "t-who" }, "草稿待审核 →"), turnMeta(t, null)));
  }
  if (!nodes.length) nodes.push(el("div", { class: "empty small" }, "还没有消息"));
  $("thread").replaceChildren(...nodes);
}

// ---------- suggestions ----------

function pendingSuggestions() {
  return ((state.detail && state.detail.suggestions) || []).filter((s) => s.status === "pending");
}

function renderSuggestions() {
  const pending = pendingSuggestions();
  // Keep an open editor even when someone else decided the suggestion meanwhile.
  const list = [...pending];
  if (state.mode && !pending.some((s) => s.id === state.mode.id)) {
    const now = ((state.detail && state.detail.suggestions) || []).find((s) => s.id === state.mode.id) || state.mode.suggestion;
    state.mode.stale = now;
    list.unshift(now);
  }
  if (!list.some((s) => s.id === state.selectedSuggestion)) state.selectedSuggestion = list[0] ? list[0].id : null;

  const box = $("suggestions");
  // An agent typing in a draft's editor keeps the focus and caret through a redraw: without
  // it the keys after an event (a buyer's new line) would go to the page, Enter to "accept".
  const typing = box.contains(document.activeElement) && document.activeElement.matches("textarea, input")
    ? { start: document.activeElement.selectionStart, end: document.activeElement.selectionEnd }
    : null;
  if (!list.length) {
    const c = conv();
    box.replaceChildren(
      el("div", { class: "empty small", testid: "no-suggestion" }, c.status === "agent" ? "人工接待中，可直接在下方回复买家。" : "暂无待审核的回复建议"),
    );
  } else {
    box.replaceChildren(...list.map(suggestionCard));
  }
  renderHistory();
  renderDrafting();
  tick();
  const editor = box.querySelector("textarea, input");
  if (editor && document.activeElement !== editor && state.mode && (state.mode.focus || typing)) {
    editor.focus();
    const end = editor.value.length;
    editor.setSelectionRange(typing ? Math.min(typing.start ?? end, end) : end, typing ? Math.min(typing.end ?? end, end) : end);
    state.mode.focus = false;
  }
}

function suggestionCard(s) {
  const selected = s.id === state.selectedSuggestion;
  const mode = state.mode && state.mode.id === s.id ? state.mode : null;
  const stale = mode && mode.stale && mode.stale.status !== "pending" ? mode.stale : null;
  const guard = (s.flags || []).length > 0;
  const head = el(
    "div",
    { class: "sugg-head" },
    el("span", { class: "sugg-title" }, "回复草稿"),
    chip("intent", label("intent", s.intent)),
    s.drafter ? chip("drafter", label("drafter", s.drafter), { title: `起草：${s.drafter}`, testid: "suggestion-drafter" }) : null,
    s.origin === "copilot" ? chip("copilot", "接待中草稿", { testid: "suggestion-copilot", title: "人工接待中：机器人只起草，不发送" }) : null,
  );
  const due = s.status === "pending" && s.due_at
    ? el("div", { class: "sugg-due", testid: "suggestion-due", dataset: { due: s.due_at, then: guard ? "转人工提示" : "自动发送" } }, "")
    : null;
  const details = Array.isArray(s.flag_details) ? s.flag_details : [];
  const flags = guard
    ? el(
        "div",
        { class: "flags" },
        s.flags.map((f, i) => chip("flag", `⚠ ${label("flag", String(f).split(":")[0].trim())}`, { testid: "suggestion-flag", title: details[i] || f })),
        details.length ? el("ul", { class: "flag-details" }, details.map((d) => el("li", {}, d))) : null,
      )
    : null;
  const fallback = s.fallback_reason ? el("div", { class: "muted tiny", testid: "fallback-reason" }, `改用模板起草：${s.fallback_reason}`) : null;
  // Guards the model's own drafts failed before the template replaced them.
  const refusedFlags = Array.isArray(s.refused_flags) ? s.refused_flags : [];
  const modelFlags = refusedFlags.length
    ? el(
        "div",
        { class: "flags", testid: "model-flags" },
        el("span", { class: "muted tiny" }, "模型草稿未通过："),
        refusedFlags.map((d) => chip("flag", `⚠ ${label("flag", String(d).split(":")[0].trim())}`, { testid: "model-flag", title: d })),
      )
    : null;
  const refused = state.refused && state.refused.id === s.id ? state.refused : null;
  const refusal = refused
    ? el(
        "div",
        { class: "stale-note", testid: "guard-refusal", role: "alert" },
        el("div", {}, refused.detail),
        el("div", { class: "hist-text", testid: "refused-text" }, refused.text),
        el(
          "div",
          { class: "sugg-actions" },
          button("danger", "仍然发送", "", "override-send", () => decide(s, refused.kind, refused.text, true)),
          button("ghost", "返回修改", "", "override-cancel", () => {
            state.refused = null;
            state.selectedSuggestion = s.id;
            state.mode = { id: s.id, kind: "edit", text: refused.text, suggestion: s, focus: true };
            renderSuggestions();
          }),
        ),
      )
    : null;
  const cites = (s.citations || []).length
    ? el(
        "ol",
        { class: "citations", testid: "suggestion-citations" },
        s.citations.map((c) => el("li", { testid: "suggestion-citation", title: c.title || "" }, el("span", { class: "mono" }, c.citation), c.title ? el("span", { class: "muted" }, ` ${c.title}`) : null)),
      )
    : el("div", { class: "muted tiny" }, "无引用来源");

  let body;
  if (mode && mode.kind === "edit") {
    const area = el("textarea", { class: "edit-area", testid: "edit-text", rows: "6", "aria-label": "编辑回复" });
    area.value = mode.text;
    area.addEventListener("input", () => (mode.text = area.value));
    area.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        decide(s, "edit", area.value);
      } else if (e.key === "Escape") {
        e.preventDefault();
        cancelMode();
      }
    });
    body = el(
      "div",
      { class: "sugg-edit" },
      area,
      el(
        "div",
        { class: "sugg-actions" },
        button("primary", "发送修改", "Enter", "edit-send", () => decide(s, "edit", area.value)),
        button("ghost", "取消", "Esc", "edit-cancel", cancelMode),
      ),
    );
  } else if (mode && mode.kind === "reject") {
    const input = el("input", { class: "reject-reason", testid: "reject-reason", placeholder: "驳回原因（必填）", "aria-label": "驳回原因" });
    input.value = mode.text;
    input.addEventListener("input", () => (mode.text = input.value));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        decide(s, "reject", input.value);
      } else if (e.key === "Escape") {
        e.preventDefault();
        cancelMode();
      }
    });
    const reasons = label("ui", "reject_reasons");
    body = el(
      "div",
      { class: "sugg-reject" },
      el("div", { class: "sugg-draft", testid: "suggestion-draft" }, s.draft),
      input,
      Array.isArray(reasons)
        ? el("div", { class: "reason-picks" }, reasons.map((r) => el("button", { type: "button", class: "chip pick", onmousedown: (e) => e.preventDefault(), onclick: () => { mode.text = r; input.value = r; input.focus(); } }, r)))
        : null,
      el(
        "div",
        { class: "sugg-actions" },
        button("danger", "确认驳回", "Enter", "reject-send", () => decide(s, "reject", input.value)),
        state.detail && state.detail.can_redraft
          ? button("", "驳回并重新生成", "", "reject-regenerate", () => regenerate(s, input.value))
          : null,
        button("ghost", "取消", "Esc", "reject-cancel", cancelMode),
      ),
    );
  } else {
    body = el(
      "div",
      {},
      el("div", { class: "sugg-draft", testid: "suggestion-draft" }, s.draft),
      el(
        "div",
        { class: "sugg-actions" },
        button("primary", "采纳", "Enter", "accept-button", () => decide(s, "accept")),
        button("", "编辑", "E", "edit-button", () => startMode(s, "edit")),
        button("danger ghost", "驳回", "R", "reject-button", () => startMode(s, "reject")),
      ),
    );
  }
  return el(
    "article",
    {
      class: `sugg${selected ? " selected" : ""}${guard ? " guarded" : ""}${stale ? " stale" : ""}`,
      testid: "suggestion",
      dataset: { suggestionId: s.id, status: s.status },
      onclick: () => {
        if (state.selectedSuggestion !== s.id) {
          state.selectedSuggestion = s.id;
          renderSuggestions();
        }
      },
    },
    head,
    due,
    stale
      ? el("div", { class: "stale-note", testid: "stale-note" }, `该建议已被 ${stale.decided_by || "其他客服"} 处理（${label("suggestion_status", stale.status)}）`)
      : null,
    flags,
    modelFlags,
    fallback,
    refusal,
    body,
    el("div", { class: "sugg-cites-title muted tiny" }, "引用"),
    cites,
  );
}

function button(kind, text, key, testid, onclick) {
  return el(
    "button",
    { type: "button", class: `btn small ${kind}`, testid, onmousedown: (e) => e.preventDefault(), onclick: (e) => { e.stopPropagation(); onclick(); } },
    text,
    key ? el("kbd", {}, key) : null,
  );
}

function renderHistory() {
  const done = ((state.detail && state.detail.suggestions) || []).filter((s) => s.status !== "pending").slice(-5).reverse();
  const box = $("history");
  if (!done.length) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(
    el("div", { class: "pane-title sub" }, "已处理"),
    ...done.map((s) =>
      el(
        "div",
        { class: `hist hist-${s.status}`, testid: "suggestion-history", dataset: { suggestionId: s.id, status: s.status } },
        el("div", { class: "hist-head" }, chip(`decided ${s.status}`, label("suggestion_status", s.status)), el("span", { class: "muted tiny" }, s.decided_by || "")),
        el("div", { class: "hist-text" }, s.final_text || s.draft),
        s.reject_reason || s.reason ? el("div", { class: "muted tiny" }, `原因：${s.reject_reason || s.reason}`) : null,
        s.override_by
          ? el("div", { class: "muted tiny", testid: "override-note", title: (s.override_flags || []).join("\n") }, `${s.override_by} 已看过合规标记，仍然发送`)
          : null,
      ),
    ),
  );
}

function selectedSuggestion() {
  const all = (state.detail && state.detail.suggestions) || [];
  return all.find((s) => s.id === state.selectedSuggestion && s.status === "pending") || null;
}

function startMode(s, kind) {
  if (!s) return;
  state.selectedSuggestion = s.id;
  state.mode = { id: s.id, kind, text: kind === "edit" ? s.draft : "", suggestion: s, focus: true };
  renderSuggestions();
}

function cancelMode() {
  state.mode = null;
  renderSuggestions();
}

async function decide(s, kind, text, override = false) {
  if (state.busy) return;
  const path = `/api/agent/suggestions/${encodeURIComponent(s.id)}/${kind}`;
  let body = {};
  if (kind === "edit") {
    if (!String(text || "").trim()) return toast("回复内容不能为空", "error");
    body = { text: text.trim() };
  } else if (kind === "reject") {
    if (!String(text || "").trim()) return toast("请填写驳回原因", "error");
    body = { reason: text.trim() };
  }
  if (override) body.override = true;
  state.busy = true;
  let conflict = null;
  try {
    await call("POST", path, body);
    state.mode = null;
    state.refused = null;
    toast({ accept: "已采纳并发送给买家", edit: "已修改并发送给买家", reject: "已驳回，请直接回复买家" }[kind], "ok");
    if (kind === "reject") {
      // The buyer's question is still open: the reply box opens on it.
      state.replyOpen = { conversationId: s.conversation_id, question: (s.facts && s.facts.question) || "", suggestionId: s.id, reason: body.reason };
    }
  } catch (err) {
    if (err.status === 409) {
      state.mode = null;
      state.refused = null;
      conflict = err.detail || "该建议已被处理";
    } else if (err.status === 422 && kind !== "reject") {
      // The guards refused the text: show why, and let the agent send it anyway or edit it.
      state.mode = null;
      state.refused = { id: s.id, kind, text: kind === "edit" ? text.trim() : s.draft, detail: err.detail || "回复未通过合规检查" };
      toast("回复未通过合规检查，未发送", "warn");
    } else {
      toast(err.detail || "操作失败", "error");
    }
  } finally {
    state.busy = false;
  }
  await Promise.all([refreshDetail(false), refreshList().catch(() => {})]);
  if (kind === "reject" && state.replyOpen && !$("agent-composer").hidden) $("agent-input").focus();
  if (conflict) {
    // Name who decided it and how, from the fresh record, rather than the raw id.
    const now = ((state.detail && state.detail.suggestions) || []).find((x) => x.id === s.id);
    const who = now && now.decided_by ? now.decided_by : "其他客服";
    toast(now && now.status !== "pending" ? `该建议已被 ${who} 处理（${label("suggestion_status", now.status)}），无需再次操作` : conflict, "warn");
  }
}

/** Reject (if still pending) and have the model write the draft again for the agent's reason. */
async function regenerate(s, reason) {
  if (state.busy) return;
  if (!String(reason || "").trim()) return toast("请填写驳回原因", "error");
  state.busy = true;
  try {
    await call("POST", `/api/agent/suggestions/${encodeURIComponent(s.id)}/regenerate`, { reason: reason.trim() });
    state.mode = null;
    state.refused = null;
    if (state.replyOpen && state.replyOpen.suggestionId === s.id) state.replyOpen = null;
    toast("已按原因重新生成草稿", "ok");
  } catch (err) {
    toast(err.detail || "重新生成失败", err.status === 409 ? "warn" : "error");
  } finally {
    state.busy = false;
  }
  await Promise.all([refreshDetail(false), refreshList().catch(() => {})]);
}

/** Drafts the model is still writing for the selected conversation, token by token. */
function renderDrafting() {
  const box = $("draft-stream");
  const live = [...state.drafting.entries()].filter(([, d]) => d.conversation_id === state.selectedId);
  box.replaceChildren(
    ...live.map(([turnId, d]) =>
      el(
        "article",
        { class: "sugg streaming", testid: "draft-stream", dataset: { turnId } },
        el("div", { class: "sugg-head" }, el("span", { class: "sugg-title" }, "正在起草…"), d.intent ? chip("intent", label("intent", d.intent)) : null),
        el("div", { class: "sugg-draft", testid: "draft-stream-text" }, d.text),
        el("div", { class: "muted tiny" }, "写完并通过合规检查后才可采纳"),
      ),
    ),
  );
}

/** The side panel: who the buyer is and what they have with the shop (like 千牛's). */
function renderBuyerPanel() {
  const p = state.detail && state.detail.profile;
  const box = $("buyer-panel");
  if (!p) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const list = (items, testid, row, empty) =>
    items.length ? el("ul", { class: "bp-list", testid }, items.map((x) => el("li", {}, ...row(x)))) : el("div", { class: "muted tiny" }, empty);
  box.replaceChildren(
    el("div", { class: "bp-head", testid: "buyer-panel-nick" }, p.nick, vipBadge(p.vip_level)),
    el(
      "div",
      { class: "bp-section" },
      el("h3", {}, `订单（${p.orders.length}）`),
      list(p.orders, "buyer-orders", (o) => [
        el("span", { class: "bp-main", title: o.items }, `${o.tid} · ${o.items}`),
        el("span", { class: "bp-side" }, `${o.status_text} · ¥${o.total_paid}`),
      ], "暂无订单"),
    ),
    el(
      "div",
      { class: "bp-section" },
      el("h3", {}, `售后（${p.refunds.length}）`),
      list(p.refunds, "buyer-refunds", (r) => [
        el("span", { class: "bp-main" }, `${r.tid} · ${r.type_text} ¥${r.amount}`),
        el("span", { class: "bp-side" }, r.status_text),
      ], "暂无售后"),
    ),
    el(
      "div",
      { class: "bp-section" },
      el("h3", {}, `工单（${p.tickets.length}）`),
      list(p.tickets, "buyer-tickets", (t) => [
        el("span", { class: "bp-main", title: t.note }, `${t.tid || ""} ${TICKET_KIND[t.kind] || t.kind}`),
        el("span", { class: "bp-side" }, `${t.status === "open" ? "处理中" : "已完成"} · ${fmtClock(t.created)}`),
      ], "暂无工单"),
    ),
    el(
      "div",
      { class: "bp-section" },
      el("h3", {}, `历史会话（${p.conversations.length}）`),
      list(p.conversations, "buyer-conversations", (c) => [
        el("span", { class: "bp-main", title: c.summary || "" }, c.summary || label("conversation_status", c.status)),
        el("span", { class: "bp-side" }, fmtClock(c.updated)),
      ], "没有更早的会话"),
    ),
  );
}

// ---------- take over / hand back / reply ----------

async function takeover() {
  if (!state.selectedId) return;
  try {
    await call("POST", `/api/agent/conversations/${encodeURIComponent(state.selectedId)}/takeover`);
    toast("已接管会话", "ok");
  } catch (err) {
    toast(err.detail || "接管失败", err.status === 409 ? "warn" : "error");
  }
  await Promise.all([refreshDetail(true), refreshList().catch(() => {})]);
  if (!$("agent-composer").hidden) $("agent-input").focus();
}

async function release() {
  if (!state.selectedId) return;
  try {
    await call("POST", `/api/agent/conversations/${encodeURIComponent(state.selectedId)}/release`);
    toast("已交还给机器人", "ok");
  } catch (err) {
    toast(err.detail || "交还失败", "error");
  }
  await Promise.all([refreshDetail(false), refreshList().catch(() => {})]);
}

async function sendAgentMessage(e, override = false) {
  if (e) e.preventDefault();
  const input = $("agent-input");
  const text = input.value.trim();
  if (!text || !state.selectedId) return;
  try {
    await call("POST", `/api/agent/conversations/${encodeURIComponent(state.selectedId)}/messages`, override ? { text, override: true } : { text });
    input.value = "";
    state.composerFlags = null;
    state.replyOpen = null;
  } catch (err) {
    if (err.status === 422 && err.body && Array.isArray(err.body.flags)) {
      // The guards refused the text: show why; sending it anyway is a deliberate, recorded act.
      state.composerFlags = { text, flags: err.body.flags, details: err.body.flag_details || [], refused: true };
      toast("回复未通过合规检查，未发送", "warn");
    } else {
      toast(err.detail || "发送失败", "error");
    }
  }
  await Promise.all([refreshDetail(true), refreshList().catch(() => {})]);
}

/** The guards on the agent's own text, checked as they type, before anything is sent. */
const checkComposer = debounce(async () => {
  const text = $("agent-input").value.trim();
  const id = state.selectedId;
  if (!text || !id) {
    state.composerFlags = null;
    return renderComposerFlags();
  }
  try {
    const res = await call("POST", `/api/agent/conversations/${encodeURIComponent(id)}/check`, { text });
    if (id !== state.selectedId || $("agent-input").value.trim() !== text) return;
    state.composerFlags = res.flags.length ? { text, flags: res.flags, details: res.flag_details || [], refused: false } : null;
  } catch (err) {
    return;
  }
  renderComposerFlags();
}, 250);

function renderComposerFlags() {
  const box = $("composer-flags");
  const f = state.composerFlags;
  if (!f || !f.flags.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  box.replaceChildren(
    ...[
      el("span", {}, f.refused ? "未发送：未通过合规检查" : "发送前提示：未通过合规检查"),
      ...f.flags.map((code, i) => chip("flag", `⚠ ${label("flag", code)}`, { testid: "composer-flag", title: f.details[i] || code })),
      f.details.length ? el("span", { class: "muted tiny", testid: "composer-flag-details" }, f.details.join("；")) : null,
      f.refused ? button("danger", "仍然发送", "", "composer-override", () => sendAgentMessage(null, true)) : null,
    ].filter(Boolean),
  );
}

// ---------- live updates ----------

function eventConversationId(data) {
  if (!data) return null;
  return (
    data.conversation_id ||
    (data.conversation && data.conversation.id) ||
    (data.suggestion && data.suggestion.conversation_id) ||
    (data.message && data.message.conversation_id) ||
    (data.turn && data.turn.conversation_id) ||
    data.id ||
    null
  );
}

function onEvent(kind, data) {
  if (kind === "draft.delta") {
    const d = state.drafting.get(data.turn_id) || { conversation_id: data.conversation_id, intent: data.intent, text: "" };
    d.text += data.text || "";
    state.drafting.set(data.turn_id, d);
    if (data.conversation_id === state.selectedId) renderDrafting();
    return;
  }
  if (kind === "suggestion.created") state.drafting.delete((data.suggestion || data).turn_id);
  scheduleList();
  const cid = eventConversationId(data);
  if (cid && cid === state.selectedId) scheduleDetail();
  else if (!cid) scheduleDetail();
  if (kind === "suggestion.decided") {
    const s = data.suggestion || data;
    if (state.mode && s.id === state.mode.id && s.decided_by !== state.auth.username) {
      toast(`你正在处理的建议已被 ${s.decided_by || "其他客服"} 处理`, "warn");
    }
  }
}

function openStream() {
  if (state.stream) state.stream.close();
  let lost = false;
  const live = $("live");
  state.stream = listen("/api/agent/events", EVENT_KINDS, onEvent, (s) => {
    live.dataset.state = s === "open" ? "open" : "retry";
    live.textContent = s === "open" ? "实时连接" : "重新连接中…";
    if (s === "retry") lost = true;
    if (s === "open" && lost) {
      lost = false;
      scheduleList();
      scheduleDetail();
    }
  });
}

// ---------- keyboard ----------

function onKey(e) {
  if ($("workspace").hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  const typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  if (typing) {
    if (e.key === "Escape") t.blur();
    return;
  }
  if ($("help").open) return;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const handlers = {
    j: () => move(1),
    ArrowDown: () => move(1),
    k: () => move(-1),
    ArrowUp: () => move(-1),
    Enter: () => {
      if (t && (t.tagName === "BUTTON" || t.tagName === "A")) return false; // let the focused control act
      const s = selectedSuggestion();
      if (s) decide(s, "accept");
    },
    e: () => startMode(selectedSuggestion(), "edit"),
    r: () => startMode(selectedSuggestion(), "reject"),
    t: () => takeover(),
    b: () => release(),
    "/": () => {
      if (!$("agent-composer").hidden) $("agent-input").focus();
    },
    "[": () => cycleSuggestion(-1),
    "]": () => cycleSuggestion(1),
    "?": () => $("help").showModal(),
    Escape: () => state.mode && cancelMode(),
  };
  const fn = handlers[key];
  if (!fn) return;
  if (fn() === false) return;
  e.preventDefault();
}

function cycleSuggestion(delta) {
  const list = pendingSuggestions();
  if (list.length < 2) return;
  const idx = list.findIndex((s) => s.id === state.selectedSuggestion);
  state.selectedSuggestion = list[(idx + delta + list.length) % list.length].id;
  renderSuggestions();
}

// ---------- start ----------

function wire() {
  $("login-form").addEventListener("submit", doLogin);
  $("logout-btn").addEventListener("click", logout);
  $("help-btn").addEventListener("click", () => $("help").showModal());
  $("takeover-btn").addEventListener("click", takeover);
  $("release-btn").addEventListener("click", release);
  $("agent-composer").addEventListener("submit", sendAgentMessage);
  $("agent-input").addEventListener("input", () => checkComposer());
  $("queue").addEventListener("mouseenter", () => (state.hovering = true));
  $("queue").addEventListener("mouseleave", () => {
    state.hovering = false;
    state.list = sortList(state.list);
    renderQueue();
  });
  $("agent-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      $("agent-composer").requestSubmit();
    }
  });
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("mousedown", (e) => e.preventDefault());
    tab.addEventListener("click", () => {
      state.filter = tab.dataset.filter;
      document.querySelectorAll(".tab").forEach((x) => x.classList.toggle("active", x === tab));
      renderQueue();
    });
  }
  for (const id of ["takeover-btn", "release-btn", "help-btn"]) $(id).addEventListener("mousedown", (e) => e.preventDefault());
  document.addEventListener("keydown", onKey);
  setInterval(tick, 1000);
  // A slow safety net in case an update was missed while the stream reconnected.
  setInterval(() => {
    if (!$("workspace").hidden) scheduleList();
  }, 30000);
}

async function main() {
  wire();
  await loadLabels();
  state.auth = store(AUTH_KEY);
  if (!state.auth) {
    showLogin("");
    document.body.dataset.ready = "1";
    return;
  }
  await enter();
  document.body.dataset.ready = "1";
}

main();
