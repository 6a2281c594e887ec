// The public API, as the browser calls it, and the session's credential.
//
// Where the token lives: a tenant's access token in sessionStorage (this tab only, gone
// when the tab closes or on log out; never localStorage), so that a reload keeps the
// user logged in. A portal token only in memory: it comes in the URL's fragment, which
// is then replaced, so it stays out of the address bar, the history and any server log.

const KEY = "hookrelay.accessToken";

export const session = {
  /** "tenant" on `/`, "portal" on `/portal`. */
  mode: location.pathname === "/portal" ? "portal" : "tenant",
  token: null,
  /** The portal session's consumer, read from its token. */
  consumerId: null,
  expiresAt: null,
};

/** Called when the API answers 401: the credential expired or was revoked. */
let onUnauthorized = () => {};
export function setUnauthorizedHandler(f) {
  onUnauthorized = f;
}

export function startSession() {
  if (session.mode === "portal") {
    const token = new URLSearchParams(location.hash.slice(1)).get("token");
    if (token) {
      history.replaceState(null, "", location.pathname + "#/webhooks");
      session.token = token;
      const claims = decodeClaims(token);
      session.consumerId = claims?.cid ?? null;
      session.expiresAt = claims?.exp ? new Date(claims.exp * 1000) : null;
    }
  } else {
    session.token = sessionStorage.getItem(KEY);
  }
  return session.token !== null;
}

export function logIn(token) {
  session.token = token;
  sessionStorage.setItem(KEY, token);
}

export function logOut() {
  session.token = null;
  sessionStorage.removeItem(KEY);
}

// Only to show who the session is for: the server checks the token on every request.
function decodeClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  } catch {
    return null;
  }
}

/** An API error: the problem+json body, with `errors` per field for a 422. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The server answered ${status}.`);
    this.status = status;
    this.type = problem?.type;
    this.errors = problem?.errors || [];
  }
}

/** Calls `/api/v1<path>`; resolves to the JSON answer (null for 204). */
export async function api(method, path, body) {
  const headers = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { detail: "The server cannot be reached. Check that hookrelay is running, then try again." });
  }
  if (res.status === 204) return null;
  const answer = await res.json().catch(() => null);
  if (!res.ok) {
    if (res.status === 401 && session.token && !path.startsWith("/auth/")) onUnauthorized();
    throw new ApiError(res.status, answer);
  }
  return answer;
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);

/** A query string of the parameters that have a value. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The live stream of attempts (EventSource cannot send headers: the token goes in the query, as SPEC allows). */
export function stream(webhookId) {
  return new EventSource(`/api/v1/stream${query({ webhookId, access_token: session.token })}`);
}
