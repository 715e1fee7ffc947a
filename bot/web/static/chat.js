// The buyer's chat page: demo login, one conversation, streamed replies, cards,
// quick replies, hand-off to a human and a rating at the end.

import { ApiError, api, el, fmtClock, label, listen, loadLabels, store, toast, vipBadge } from "./common.js";
import { renderCard } from "./cards.js";

const $ = (id) => document.getElementById(id);
const AUTH_KEY = "xiaoer.buyer";
const convKey = (buyerId) => `xiaoer.conversation.${buyerId}`;
const PAIR_WINDOW_MS = 30000; // a local echo and its stored copy arrive within this time
const reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

const state = {
  auth: null, // {token, buyer}
  conversationId: null,
  status: "bot",
  agent: null,
  stream: null,
  rendered: new Map(), // message id -> bubble
  unmatched: [], // bubbles shown from one side (local echo / stream) not yet paired with the other
  streams: new Map(), // turn id -> the bubble a reply is being streamed into
  awaitingAgent: false,
  sending: Promise.resolve(),
  rated: false,
};

function norm(text) {
  return String(text || "").replace(/\s+/g, " ").trim();
}

// ---------- login ----------

async function showPicker() {
  closeStream();
  state.auth = null;
  $("who").hidden = true;
  $("messages").hidden = true;
  $("composer-wrap").hidden = true;
  $("rating").hidden = true;
  $("picker").hidden = false;
  $("conv-state").textContent = "请选择演示买家";
  const list = $("picker-list");
  list.replaceChildren(el("div", { class: "muted" }, "加载中…"));
  try {
    const buyers = await api("GET", "/api/auth/demo-buyers");
    list.replaceChildren(
      ...buyers.map((b) =>
        el(
          "button",
          { type: "button", class: "picker-item", testid: `demo-buyer-${b.id}`, dataset: { buyerId: b.id }, onclick: () => login(b.id) },
          el("span", { class: "avatar", "aria-hidden": "true" }, (b.nick || "?").slice(0, 1)),
          el("span", { class: "picker-nick" }, b.nick),
          vipBadge(b.vip_level),
        ),
      ),
    );
    if (!buyers.length) list.replaceChildren(el("div", { class: "muted" }, "店铺里没有演示买家。"));
  } catch (err) {
    list.replaceChildren();
    const box = $("picker-error");
    box.hidden = false;
    box.textContent = err.detail || "无法加载演示买家";
  }
}

async function login(buyerId) {
  try {
    const res = await api("POST", "/api/auth/demo-login", { buyer_id: buyerId });
    state.auth = { token: res.token, buyer: res.buyer };
    store(AUTH_KEY, state.auth);
    await startSession();
  } catch (err) {
    toast(err.detail || "登录失败", "error");
  }
}

function logout() {
  store(AUTH_KEY, null);
  api("POST", "/api/auth/logout").catch(() => {});
  showPicker();
}

// ---------- conversation ----------

async function startSession(forceNew = false) {
  const { buyer } = state.auth;
  $("picker").hidden = true;
  $("who").hidden = false;
  $("who-nick").textContent = buyer.nick;
  $("who-vip").replaceChildren(vipBadge(buyer.vip_level));
  $("messages").hidden = false;
  $("composer-wrap").hidden = false;
  $("rating").hidden = true;
  resetThread();

  let conv = null;
  const saved = forceNew ? null : store(convKey(buyer.id));
  if (saved) {
    try {
      conv = await api("GET", `/api/conversations/${encodeURIComponent(saved)}`, undefined, state.auth.token);
      if (conv.status === "closed") conv = null;
    } catch (err) {
      if (err.status === 401) return logout();
      conv = null;
    }
  }
  if (!conv) {
    try {
      const created = await api("POST", "/api/conversations", {}, state.auth.token);
      conv = { id: created.conversation_id, status: "bot", messages: [] };
    } catch (err) {
      if (err.status === 401) return logout();
      toast(err.detail || "无法开始对话", "error");
      return;
    }
  }
  state.conversationId = conv.id;
  store(convKey(buyer.id), conv.id);
  $("app").dataset.conversationId = conv.id;
  setStatus(conv.status || "bot", conv.agent, Boolean(conv.waiting_for_draft));
  const messages = conv.messages || [];
  if (!messages.length) showWelcome();
  for (const m of messages) addServerMessage(m, { animate: false, history: true });
  openStream();
  scrollDown();
  $("input").focus();
}

function resetThread() {
  closeStream();
  state.rendered.clear();
  state.unmatched = [];
  state.awaitingAgent = false;
  clearInterval(state.awaitPoll);
  state.rated = false;
  $("messages").replaceChildren();
  setQuickReplies([]);
}

function showWelcome() {
  const starters = label("chat", "starters");
  $("messages").append(
    el("div", { class: "welcome", testid: "welcome" }, el("div", { class: "welcome-title" }, "您好，欢迎光临！"), el("div", { class: "muted" }, "商品、尺码、优惠、订单、物流、退换货都可以问我。")),
  );
  if (Array.isArray(starters)) setQuickReplies(starters);
}

function setStatus(status, agent, forDraft = false) {
  state.status = status;
  state.agent = agent || null;
  $("app").dataset.status = status;
  // A reply being checked by a person is no transfer: the buyer may still ask for one.
  const checking = status === "waiting" && forDraft;
  const text = {
    bot: "智能客服为您服务",
    waiting: checking ? "客服正在为您核对答复…" : "正在转接人工客服，请稍候…",
    agent: agent ? `人工客服 ${agent} 为您服务` : "人工客服为您服务",
    closed: "对话已结束",
  }[status] || label("conversation_status", status);
  $("conv-state").textContent = text;
  $("human-btn").disabled = (status === "waiting" && !checking) || status === "agent" || status === "closed";
  if (status === "closed") showRating();
}

function openStream() {
  closeStream();
  const id = state.conversationId;
  let lost = false;
  state.stream = listen(
    `/api/conversations/${encodeURIComponent(id)}/events`,
    ["message", "status", "reply.delta", "reply.retract"],
    (kind, data) => {
      if (data.conversation_id && data.conversation_id !== state.conversationId) return;
      if (kind === "reply.delta") return streamPiece(data.turn_id, data.text || "");
      if (kind === "reply.retract") return retractStream(data.turn_id);
      if (kind === "message") {
        const msg = data.message || data;
        if (msg && msg.role) addServerMessage(msg, { animate: true });
      } else if (kind === "status") {
        const conv = data.conversation || data;
        if (conv.status) setStatus(conv.status, conv.agent, Boolean(conv.waiting_for_draft));
      }
    },
    (s) => {
      if (s === "retry") lost = true;
      if (s === "open" && lost) {
        lost = false;
        resync();
      }
    },
  );
}

function closeStream() {
  if (state.stream) state.stream.close();
  state.stream = null;
}

/** After a dropped stream, fetch the conversation and show what was missed. */
async function resync() {
  try {
    const conv = await api("GET", `/api/conversations/${encodeURIComponent(state.conversationId)}`, undefined, state.auth.token);
    for (const m of conv.messages || []) addServerMessage(m, { animate: false });
    if (conv.status) setStatus(conv.status, conv.agent, Boolean(conv.waiting_for_draft));
  } catch (err) {
    /* the stream will retry */
  }
}

// ---------- rendering ----------

function scrollDown() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function bubble(role, text, created, extra = {}) {
  const who = { bot: "智能客服", agent: extra.author ? `客服 ${extra.author}` : "人工客服", buyer: "" }[role];
  const node = el(
    "div",
    { class: `msg msg-${role}`, testid: `msg-${role}`, dataset: { role } },
    who ? el("div", { class: "msg-who" }, who) : null,
    el("div", { class: "msg-text", testid: "msg-text" }),
    el("div", { class: "msg-time" }, fmtClock(created || new Date().toISOString())),
  );
  const textBox = node.querySelector(".msg-text");
  if (extra.animate && !reduceMotion && text.length > 8) typewrite(textBox, text);
  else textBox.textContent = text;
  return node;
}

/** A reply the shop sends at once arrives as the model writes it: one growing bubble per turn. */
function streamPiece(turnId, text) {
  if (!turnId || !text) return;
  let node = state.streams.get(turnId);
  if (!node) {
    document.querySelectorAll(".thinking").forEach((n) => n.remove());
    removeWelcome();
    node = bubble("bot", "", null, {});
    node.classList.add("streaming");
    node.dataset.turnId = turnId;
    state.streams.set(turnId, node);
    $("messages").append(node);
  }
  const box = node.querySelector(".msg-text");
  box.textContent += text;
  scrollDown();
}

function retractStream(turnId) {
  const node = state.streams.get(turnId);
  if (node) node.remove();
  state.streams.delete(turnId);
}

/** The bubble a streamed reply grew in, now holding the final text; null when none. */
function adoptStream(turnId, text, created) {
  const node = turnId ? state.streams.get(turnId) : null;
  if (!node) return null;
  state.streams.delete(turnId);
  node.classList.remove("streaming");
  node.querySelector(".msg-text").textContent = text;
  if (created) node.querySelector(".msg-time").textContent = fmtClock(created);
  return node;
}

/** Reveal a reply progressively (the page's "streaming"), finishing within about half a second.
 * The whole text takes its room at once, so a card or button below it stays where it is. */
function typewrite(box, text) {
  const chars = Array.from(text);
  const step = Math.max(1, Math.ceil(chars.length / 28));
  const typed = el("span", { class: "typed" });
  const rest = el("span", { class: "untyped", "aria-hidden": "true" });
  box.replaceChildren(typed, rest);
  box.classList.add("typing");
  let shown = 0;
  const tick = () => {
    shown = Math.min(chars.length, shown + step);
    if (shown < chars.length) {
      typed.textContent = chars.slice(0, shown).join("");
      rest.textContent = chars.slice(shown).join("");
      setTimeout(tick, 16);
    } else {
      box.classList.remove("typing");
      box.textContent = text;
    }
  };
  tick();
}

function systemNote(text, testid = "msg-system") {
  return el("div", { class: "msg-system", testid }, el("span", {}, text));
}

function removeWelcome() {
  document.querySelectorAll(".welcome").forEach((n) => n.remove());
}

/** Pair a bubble from one source with one already shown from the other; true if paired. */
function pairWith(role, text, source, id) {
  const key = norm(text);
  const recent = Date.now() - PAIR_WINDOW_MS;
  state.unmatched = state.unmatched.filter((u) => u.t >= recent);
  const idx = state.unmatched.findIndex((u) => u.role === role && u.key === key && u.source !== source);
  if (idx < 0) return null;
  const [hit] = state.unmatched.splice(idx, 1);
  if (id) {
    hit.node.dataset.id = id;
    state.rendered.set(id, hit.node);
  }
  return hit.node;
}

/** Show a stored message once; `history` marks messages loaded with the page, never paired. */
function addServerMessage(msg, { animate, history = false }) {
  if (msg.id && state.rendered.has(msg.id)) return;
  const role = msg.role || "system";
  if (role === "system") {
    const node = systemNote(msg.text);
    if (msg.id) state.rendered.set(msg.id, node);
    $("messages").append(node);
    scrollDown();
    return;
  }
  const streamed = role === "bot" ? adoptStream(msg.turn_id, msg.text || "", msg.created) : null;
  if (streamed) {
    if (msg.id) {
      streamed.dataset.id = msg.id;
      state.rendered.set(msg.id, streamed);
    }
    if (!history) state.unmatched.push({ role, key: norm(msg.text), source: "server", node: streamed, t: Date.now() });
    return;
  }
  const paired = pairWith(role, msg.text, "server", msg.id);
  if (paired) {
    // The page drew it first with the browser's clock; the stored time is the shop's.
    const time = paired.querySelector(".msg-time");
    if (time && msg.created) time.textContent = fmtClock(msg.created);
    return;
  }
  removeWelcome();
  if (role === "bot" || role === "agent") clearAwaitingAgent();
  const node = bubble(role, msg.text || "", msg.created, { animate, author: msg.author });
  if (msg.id) {
    node.dataset.id = msg.id;
    state.rendered.set(msg.id, node);
  }
  if (!history) state.unmatched.push({ role, key: norm(msg.text), source: "server", node, t: Date.now() });
  $("messages").append(node);
  scrollDown();
}

function addLocal(role, text, animate) {
  const paired = pairWith(role, text, "local");
  if (paired) return paired;
  const node = bubble(role, text, null, { animate });
  state.unmatched.push({ role, key: norm(text), source: "local", node, t: Date.now() });
  $("messages").append(node);
  scrollDown();
  return node;
}

function showThinking() {
  const node = el("div", { class: "msg msg-bot thinking", testid: "bot-thinking", "aria-label": "正在输入" }, el("span", { class: "dots" }, el("i"), el("i"), el("i")));
  $("messages").append(node);
  scrollDown();
  return node;
}

function showAwaitingAgent() {
  if (state.awaitingAgent) return;
  state.awaitingAgent = true;
  const node = el("div", { class: "msg-system awaiting", id: "awaiting", testid: "agent-typing" }, el("span", {}, "客服正在回复…"));
  $("messages").append(node);
  scrollDown();
  // The reply normally arrives on the event stream; checking now and then also covers a
  // stream that is reconnecting.
  clearInterval(state.awaitPoll);
  state.awaitPoll = setInterval(() => state.awaitingAgent && resync(), 3000);
}

function clearAwaitingAgent() {
  state.awaitingAgent = false;
  clearInterval(state.awaitPoll);
  const node = $("awaiting");
  if (node) node.remove();
}

function setQuickReplies(items) {
  const box = $("quick-replies");
  box.replaceChildren(
    ...items.map((text) => el("button", { type: "button", class: "quick", testid: "quick-reply", onclick: () => send(text) }, text)),
  );
  box.hidden = !items.length;
}

// ---------- sending ----------

function send(text) {
  const clean = String(text || "").trim();
  if (!clean || !state.conversationId) return;
  if (state.status === "closed") {
    toast("对话已结束，请开始新对话");
    return;
  }
  removeWelcome();
  setQuickReplies([]);
  addLocal("buyer", clean, false);
  // Turns are sent one after another so replies stay in order.
  state.sending = state.sending.then(() => sendNow(clean));
}

async function sendNow(text) {
  const thinking = state.status === "agent" ? null : showThinking();
  try {
    const res = await api("POST", "/api/chat", { conversation_id: state.conversationId, text }, state.auth.token);
    if (thinking) thinking.remove();
    let anchor = null;
    const streamed = res.reply && res.delivered !== false ? adoptStream(res.turn_id, res.reply, null) : null;
    if (streamed) {
      state.unmatched.push({ role: "bot", key: norm(res.reply), source: "local", node: streamed, t: Date.now() });
      anchor = streamed;
    } else if (res.reply && res.delivered !== false) anchor = addLocal("bot", res.reply, true);
    else if (res.turn_id) retractStream(res.turn_id);
    for (const card of res.cards || []) {
      const node = renderCard(card, { onPick: send });
      if (!node) continue;
      const wrap = el("div", { class: "msg-cards" }, node);
      if (anchor && anchor.isConnected) anchor.after(wrap);
      else $("messages").append(wrap);
      anchor = wrap;
    }
    if (res.delivered === false && (res.suggestion_id || res.status === "agent" || res.status === "waiting")) showAwaitingAgent();
    setQuickReplies(res.quick_replies || []);
    if (res.status) setStatus(res.status, state.agent, res.status === "waiting" && Boolean(res.suggestion_id) && !res.handoff);
    scrollDown();
  } catch (err) {
    if (thinking) thinking.remove();
    if (err instanceof ApiError && err.status === 401) {
      toast("登录已过期，请重新选择买家", "error");
      return logout();
    }
    $("messages").append(systemNote(err.detail || "发送失败，请重试", "msg-error"));
    scrollDown();
  }
}

// ---------- rating ----------

function showRating() {
  $("composer-wrap").hidden = true;
  $("rating").hidden = false;
  $("rating-done").hidden = !state.rated;
  $("new-conv").hidden = !state.rated;
  $("rating-back").hidden = state.rated || state.status === "closed";
  const stars = $("stars");
  stars.hidden = state.rated;
  stars.replaceChildren(
    ...[1, 2, 3, 4, 5].map((n) =>
      el(
        "button",
        { type: "button", class: "star", role: "radio", "aria-checked": "false", "aria-label": `${n}分`, testid: `rating-${n}`, dataset: { score: n }, onclick: () => rate(n) },
        el("span", { class: "star-icon", "aria-hidden": "true" }, "★"),
        el("span", { class: "star-label" }, ["很差", "较差", "一般", "满意", "非常满意"][n - 1]),
      ),
    ),
  );
  scrollDown();
}

async function rate(score) {
  try {
    await api("POST", `/api/conversations/${encodeURIComponent(state.conversationId)}/rating`, { score }, state.auth.token);
    state.rated = true;
    document.querySelectorAll(".star").forEach((s) => {
      const on = Number(s.dataset.score) <= score;
      s.classList.toggle("on", on);
      s.setAttribute("aria-checked", String(Number(s.dataset.score) === score));
    });
    $("stars").hidden = true;
    $("rating-done").hidden = false;
    $("rating-done").textContent = `感谢您的评价（${score}分）！`;
    $("new-conv").hidden = false;
    $("rating-back").hidden = true;
    $("new-conv").focus();
  } catch (err) {
    toast(err.detail || "评价提交失败", "error");
  }
}

// ---------- wiring ----------

function wire() {
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("input");
    send(input.value);
    input.value = "";
    autosize();
  });
  $("input").addEventListener("keydown", (e) => {
    // Enter sends; Shift+Enter is a new line; never while an IME is composing Chinese.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("input").addEventListener("input", autosize);
  $("human-btn").addEventListener("click", () => send("转人工"));
  $("end-btn").addEventListener("click", () => {
    if (state.conversationId) showRating();
  });
  $("switch-btn").addEventListener("click", logout);
  $("new-conv").addEventListener("click", () => startSession(true));
  $("rating-back").addEventListener("click", () => {
    $("rating").hidden = true;
    $("composer-wrap").hidden = false;
    $("input").focus();
  });
}

function autosize() {
  const input = $("input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
}

async function main() {
  wire();
  await loadLabels();
  state.auth = store(AUTH_KEY);
  if (state.auth && state.auth.token && state.auth.buyer) await startSession();
  else await showPicker();
  document.body.dataset.ready = "1";
}

main();
