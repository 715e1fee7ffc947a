// Shared helpers of the chat page and the agent console: HTTP calls, DOM building,
// time formatting, UI labels and a self-healing event stream.

export class ApiError extends Error {
  constructor(status, detail, body = null) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.body = body; // the whole error body (e.g. the guard flags of a refused reply)
  }
}

/** Call the JSON API; errors become ApiError carrying the server's Chinese `detail`. */
export async function api(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "网络连接失败，请稍后重试");
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (err) {
      data = text;
    }
  }
  if (!res.ok) {
    throw new ApiError(res.status, detailOf(data) || `请求失败（${res.status}）`, data);
  }
  return data;
}

function detailOf(data) {
  if (!data) return "";
  if (typeof data === "string") return data;
  const d = data.detail;
  if (typeof d === "string") return d;
  if (Array.isArray(d) && d.length) return d.map((x) => x.msg || String(x)).join("；");
  return "";
}

/** Build an element: el("div", {class: "x", dataset: {testid: "y"}, onclick}, child, ...). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "testid") node.dataset.testid = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let LABELS = {};

/** Load the UI label tables (statuses, intents, actions, flags) from labels.json. */
export async function loadLabels() {
  try {
    LABELS = await api("GET", "/static/labels.json");
  } catch (err) {
    LABELS = {};
  }
  return LABELS;
}

/** The Chinese label of a code in one table, or the code itself when unknown. */
export function label(table, code) {
  if (code === undefined || code === null || code === "") return "";
  const t = LABELS[table] || {};
  return t[code] || String(code);
}

export function parseTime(value) {
  if (!value) return null;
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? null : t;
}

const pad = (n) => String(n).padStart(2, "0");

/** "10:05" today, "11-20 10:05" another day. */
const ISO_WALL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
// The shop's UTC offset in minutes, learnt from the times the server sends (ISO with the
// shop's offset), so a time made in the page reads in the shop's timezone too.
let shopOffsetMin = null;

function offsetOf(zone) {
  if (zone === "Z") return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  return m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** A time as the shop reads it: "HH:MM" today, else "MM-DD HH:MM" — in the shop's timezone
 * (the offset the server wrote), whatever the browser's is. */
export function fmtClock(value) {
  const t = parseTime(value);
  if (!t) return "";
  const wall = ISO_WALL.exec(String(value));
  let offset = null;
  if (wall && wall[6] !== "Z") {
    offset = offsetOf(wall[6]);
    shopOffsetMin = offset;
  } else if (shopOffsetMin !== null) {
    offset = shopOffsetMin;
  }
  if (offset === null) {
    const now = new Date();
    const hm = `${pad(t.getHours())}:${pad(t.getMinutes())}`;
    if (t.toDateString() === now.toDateString()) return hm;
    return `${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${hm}`;
  }
  const shifted = new Date(t.getTime() + offset * 60000).toISOString(); // the shop's wall time, as UTC digits
  const today = new Date(Date.now() + offset * 60000).toISOString().slice(0, 10);
  const hm = shifted.slice(11, 16);
  return shifted.slice(0, 10) === today ? hm : `${shifted.slice(5, 7)}-${shifted.slice(8, 10)} ${hm}`;
}

/** A waiting time: "45秒", "3分12秒", "1小时05分". Negative (clock skew) counts as zero. */
export function fmtDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}秒`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}分${pad(s % 60)}秒`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}小时${pad(m % 60)}分`;
  return `${Math.floor(h / 24)}天${h % 24}小时`;
}

export function fmtMoney(value) {
  if (value === undefined || value === null || value === "") return "";
  const n = Number(value);
  return Number.isFinite(n) ? `¥${n.toFixed(2)}` : `¥${value}`;
}

/** First present key of an object, for card data whose producers name fields differently. */
export function pick(obj, ...keys) {
  if (!obj) return undefined;
  for (const k of keys) {
    if (obj[k] !== undefined && obj[k] !== null && obj[k] !== "") return obj[k];
  }
  return undefined;
}

/**
 * Listen to a server-sent event stream. Events are JSON `{kind, data}` either as unnamed
 * `data:` lines or as named events; both reach `onEvent(kind, data)`. `onState` gets
 * "open" / "retry" so pages can show the connection state and resynchronise on reconnect.
 */
export function listen(url, kinds, onEvent, onState) {
  let source = null;
  let closed = false;
  let retryTimer = null;
  let delay = 1000;
  let lastId = null; // a stream we reopen ourselves resumes after the last event seen

  const handle = (ev) => {
    if (ev.lastEventId) lastId = ev.lastEventId;
    let payload;
    try {
      payload = JSON.parse(ev.data);
    } catch (err) {
      return;
    }
    if (payload && typeof payload === "object" && "kind" in payload && "data" in payload) {
      onEvent(payload.kind, payload.data || {});
    } else {
      onEvent(ev.type, payload || {});
    }
  };

  const open = () => {
    if (closed) return;
    const resume = lastId ? `${url}${url.includes("?") ? "&" : "?"}last_event_id=${encodeURIComponent(lastId)}` : url;
    source = new EventSource(resume, { withCredentials: true });
    source.onopen = () => {
      delay = 1000;
      onState && onState("open");
    };
    source.onmessage = handle;
    for (const kind of kinds) if (kind !== "message") source.addEventListener(kind, handle);
    source.onerror = () => {
      onState && onState("retry");
      // EventSource gives up for good on HTTP errors; reopen ourselves with back-off.
      if (source.readyState === EventSource.CLOSED) {
        clearTimeout(retryTimer);
        retryTimer = setTimeout(open, delay);
        delay = Math.min(delay * 2, 15000);
      }
    };
  };
  open();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      if (source) source.close();
    },
  };
}

/** Run `fn` at most once per `wait` ms, trailing call included. */
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

export function store(key, value) {
  try {
    if (value === undefined) return JSON.parse(localStorage.getItem(key) || "null");
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch (err) {
    return null;
  }
  return value;
}

/** A short message at the bottom of the screen. */
export function toast(text, kind = "info") {
  let box = document.getElementById("toast");
  if (!box) {
    box = el("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite", testid: "toast" });
    document.body.append(box);
  }
  box.textContent = text;
  box.className = `toast show ${kind}`;
  clearTimeout(box._timer);
  box._timer = setTimeout(() => box.classList.remove("show"), 4000);
}

export function vipBadge(level) {
  const n = Number(level) || 0;
  return el("span", { class: `vip vip-${Math.min(Math.max(n, 0), 5)}`, title: `会员等级 VIP${n}`, testid: "vip" }, `VIP${n}`);
}

export function statusBadge(status) {
  return el("span", { class: `badge status-${status}`, testid: "status-badge", dataset: { status } }, label("conversation_status", status));
}

/** The agents' login form (#username, #password, #login-error): sign in, clear the password and
 * hand the token on; a refusal, or a failure of ``onAuth``, is shown in the form. */
export async function submitAgentLogin(e, onAuth) {
  e.preventDefault();
  const box = document.getElementById("login-error");
  const password = document.getElementById("password");
  box.hidden = true;
  try {
    const res = await api("POST", "/api/auth/agent-login", {
      username: document.getElementById("username").value.trim(), password: password.value,
    });
    password.value = "";
    await onAuth({ token: res.token, username: res.username, role: res.role });
  } catch (err) {
    box.hidden = false;
    box.textContent = err.detail || "登录失败";
  }
}
