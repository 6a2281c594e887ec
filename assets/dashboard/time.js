// Times, shown the same way everywhere: "2026-12-07 19:04:05 CET" in the browser's zone, or
// "2026-12-07 18:04:05 UTC" once the user flips the UTC toggle. Year-month-day order and the
// zone always shown, so that a time copied into a support ticket means one instant.
// The choice lives in sessionStorage (a tab's preference, never localStorage: nothing of
// the dashboard outlives the tab).

const KEY = "hookrelay.timeZone";
const listeners = new Set();

let utc = (() => {
  try {
    return sessionStorage.getItem(KEY) === "utc";
  } catch {
    return false;
  }
})();

/** True when times are shown in UTC rather than the browser's zone. */
export function utcMode() {
  return utc;
}

/** Switches zones and rewrites every time already on the page (and tells charts etc.). */
export function setUtcMode(on) {
  utc = Boolean(on);
  try {
    if (on) sessionStorage.setItem(KEY, "utc");
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage refused (private mode): the choice lasts until the next reload.
  }
  for (const el of document.querySelectorAll("time[data-when]")) el.textContent = formatTime(el.dateTime);
  for (const fn of listeners) fn(on);
}

/** Calls `fn(utc)` after each switch (for views that draw times themselves); returns an unsubscribe. */
export function onZoneChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const pad = (n) => String(n).padStart(2, "0");

let zoneNames = null; // one formatter for every time on the page (they are slow to make)

/** The browser zone's label at `d`: the short name when it is one ("CET"), else "UTC+5:30". */
function zoneLabel(d) {
  zoneNames ??= new Intl.DateTimeFormat(undefined, { timeZoneName: "short" });
  const part = zoneNames
    .formatToParts(d)
    .find((p) => p.type === "timeZoneName");
  const name = part ? part.value : "";
  if (/^[A-Z]{2,5}$/.test(name)) return name;
  // Locales without an abbreviation for the zone answer "GMT+1": say UTC, computed here.
  const off = -d.getTimezoneOffset();
  if (off === 0) return "UTC";
  const sign = off > 0 ? "+" : "-";
  const abs = Math.abs(off);
  return `UTC${sign}${Math.floor(abs / 60)}${abs % 60 ? ":" + pad(abs % 60) : ""}`;
}

/**
 * The zone times are shown in, as every label of the page says it: "UTC" in UTC mode,
 * else the browser zone's label at `d` (its offset may differ in summer and winter).
 */
export function zoneName(d = new Date()) {
  return utc ? "UTC" : zoneLabel(d);
}

/** The text for an ISO timestamp in the current mode ("" for none, the input when unparsable). */
export function formatTime(iso, { seconds = true } = {}) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const [y, mo, da, h, mi, s] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  const clock = `${pad(h)}:${pad(mi)}${seconds ? ":" + pad(s) : ""}`;
  return `${y}-${pad(mo)}-${pad(da)} ${clock} ${zoneName(d)}`;
}

/** A <time> showing `iso` in the current mode; the exact UTC value in its tooltip. "—" for none. */
export function when(iso) {
  if (!iso) return document.createTextNode("—");
  const el = document.createElement("time");
  el.dateTime = iso;
  el.dataset.when = "";
  const d = new Date(iso);
  el.title = Number.isNaN(d.getTime()) ? String(iso) : d.toISOString();
  el.textContent = formatTime(iso);
  return el;
}

/** The header's switch between the browser's zone and UTC. */
export function zoneToggle() {
  const label = document.createElement("label");
  label.className = "zone-toggle";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = utcMode();
  box.addEventListener("change", () => setUtcMode(box.checked));
  label.append(box, " UTC");
  label.title = "Show times in UTC instead of your browser's zone";
  return label;
}

/**
 * The ISO instant of a `datetime-local` input's value ("" → null), read in the zone the
 * times are shown in: what the user types is what the page shows.
 */
export function inputToIso(value) {
  if (!value) return null;
  const d = new Date(utcMode() ? `${value}Z` : value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * The `datetime-local` value for an instant (a Date or an ISO string), in the zone the
 * times are shown in: the inverse of `inputToIso`, to pre-fill a time input.
 */
export function isoToInput(instant) {
  const d = new Date(instant);
  if (Number.isNaN(d.getTime())) return "";
  const [y, mo, da, h, mi] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes()];
  return `${y}-${pad(mo)}-${pad(da)}T${pad(h)}:${pad(mi)}`;
}
