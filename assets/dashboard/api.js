// The public API, as the browser calls it, and the session's credential.
//
// Where the token lives: in sessionStorage (this tab only, gone when the tab closes or on
// log out; never localStorage), so that a reload keeps the session. A tenant's access
// token and a portal token under keys of their own, so that a portal opened in a tab of
// the tenant's dashboard cannot take the tenant's place or the other way round. A portal
// token comes in the URL's fragment, which is then replaced, so it stays out of the
// address bar, the history and any server log.

const KEY = "hookrelay.accessToken";
const PORTAL_KEY = "hookrelay.portalToken";

export const session = {
  /** "tenant" on `/`, "portal" on `/portal`. */
  mode: location.pathname === "/portal" ? "portal" : "tenant",
  token: null,
  /** The portal session's consumer and tenant, read from its token (for display only). */
  consumerId: null,
  tenantName: null,
  expiresAt: null,
};

/** Called when the API answers 401: the credential expired or was revoked. */
let onUnauthorized = () => {};
export function setUnauthorizedHandler(f) {
  onUnauthorized = f;
}

export function startSession() {
  if (session.mode === "portal") {
    // a link just opened wins over the session this tab kept: it is the newer one
    const fresh = new URLSearchParams(location.hash.slice(1)).get("token");
    if (fresh) {
      history.replaceState(null, "", location.pathname + "#/webhooks");
      sessionStorage.setItem(PORTAL_KEY, fresh);
    }
    const token = sessionStorage.getItem(PORTAL_KEY);
    const claims = token ? decodeClaims(token) : null;
    // an expired token would only earn a 401: show the ended session at once instead
    if (token && !(claims?.exp && claims.exp * 1000 <= Date.now())) {
      session.token = token;
      session.consumerId = claims?.cid ?? null;
      session.tenantName = typeof claims?.tenant_name === "string" && claims.tenant_name ? claims.tenant_name : null;
      session.expiresAt = claims?.exp ? new Date(claims.exp * 1000) : null;
    } else {
      sessionStorage.removeItem(PORTAL_KEY);
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
  sessionStorage.removeItem(session.mode === "portal" ? PORTAL_KEY : KEY);
}

// Only to show who the session is for: the server checks the token on every request.
function decodeClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    // atob gives bytes: decode them as UTF-8, or a tenant named "Zürich" reads "ZÃ¼rich"
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
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
  return (await call(method, path, body)).value;
}

/**
 * GETs `/api/v1<path>` and resolves to `{value, text}`: the parsed answer and the answer's
 * text as the server wrote it, for payloads whose numbers JSON.parse would round.
 */
export const getRaw = (path) => call("GET", path);

async function call(method, path, body) {
  const headers = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { detail: "The server cannot be reached. Check that hookrelay is running, then try again." });
  }
  if (res.status === 204) return { value: null, text: "" };
  const text = await res.text().catch(() => "");
  let answer = null;
  try {
    answer = JSON.parse(text);
  } catch {
    // not JSON (a proxy's error page): the status speaks for it
  }
  if (!res.ok) {
    if (res.status === 401 && session.token && !path.startsWith("/auth/")) onUnauthorized();
    throw new ApiError(res.status, answer);
  }
  return { value: answer, text };
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
