// Calls to the staff API with the signed-in user's token.
//
// The token lives in sessionStorage (gone when the tab closes) and travels as
// "Authorization: Bearer". When the API says the sign-in is over (401), or refuses the
// account itself (403 on /me too: suspended, locked, office suspended), the portal forgets
// the token and returns to the sign-in page with the API's message.

const KEY = "weihai-sms.session";

// The portal is served at <base>/portal/ and the API at <base>/v1/... (a stage name may
// come first in AWS), so the API's base is whatever precedes "/portal/".
export const BASE = (() => {
  const at = location.pathname.indexOf("/portal/");
  return at > 0 ? location.pathname.slice(0, at) : "";
})();

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

export function saveSession(value) {
  sessionStorage.setItem(KEY, JSON.stringify(value));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `请求失败（${status}）`);
    this.status = status;
    this.code = error.code || "error";
    this.field = error.field || null;
    this.details = Array.isArray(error.details) ? error.details : [];
  }
}

let onSignedOut = () => {};

// The app decides what "back to sign-in" means; api.js only reports it.
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

function query(params) {
  const pairs = Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
}

async function send(method, path, body, params) {
  const headers = { Accept: "application/json" };
  const current = session();
  if (current && current.access_token) headers.Authorization = `Bearer ${current.access_token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${BASE}/v1/staff${path}${query(params)}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { response, data };
}

// One API call. Resolves with the parsed body; rejects with ApiError.
export async function api(method, path, body, params) {
  const { response, data } = await send(method, path, body, params);
  if (response.ok) return data;
  throw await refusal(path, response, data);
}

// The error of a refused call; a sign-in that is over sends the portal back to sign in.
async function refusal(path, response, data) {
  const error = new ApiError(response.status, data);
  if (session() && !path.startsWith("/session")) {
    if (response.status === 401) {
      clearSession();
      onSignedOut("登录已超时或已失效，请重新登录");
    } else if (response.status === 403) {
      // A refused role and a refused account both answer 403: ask who we are to tell them apart.
      const probe = path === "/me" ? { response, data } : await send("GET", "/me");
      if (probe.response.status === 401 || probe.response.status === 403) {
        clearSession();
        onSignedOut(new ApiError(probe.response.status, probe.data).message);
      }
    }
  }
  return error;
}

// A file the API serves (JSON lines, CSV): resolves with its text and the name it suggests.
export async function download(path, params) {
  const headers = { Accept: "*/*" };
  const current = session();
  if (current && current.access_token) headers.Authorization = `Bearer ${current.access_token}`;
  const response = await fetch(`${BASE}/v1/staff${path}${query(params)}`, { headers });
  const text = await response.text();
  if (!response.ok) {
    let data = null;
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
    throw await refusal(path, response, data);
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const named = /filename="([^"]+)"/.exec(disposition);
  return { text, filename: named ? named[1] : null, type: response.headers.get("Content-Type") || "text/plain" };
}

export const get = (path, params) => api("GET", path, undefined, params);
export const post = (path, body = {}) => api("POST", path, body);
export const put = (path, body = {}) => api("PUT", path, body);
export const del = (path) => api("DELETE", path);
