// The hookrelay client: openapi-fetch over the types that openapi-typescript generates from
// the OpenAPI description (src/schema.ts, by scripts/sdk). This file only adds what the
// description cannot say: errors as a typed exception, and following `nextCursor`.
import createClient, { type Client, type FetchResponse, type MaybeOptionalInit } from "openapi-fetch";
import type { HttpMethod, MediaType, PathsWithMethod, RequiredKeysOf } from "openapi-typescript-helpers";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };
/** Every schema of the API by name, e.g. `Schemas["Webhook"]`. */
export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type FieldError = Schemas["FieldError"];

/**
 * An answer that is not 2xx: the API's `application/problem+json` body (RFC 9457), with
 * `errors` naming each failing field of a 422 (dotted paths: `url`, `events[1]`,
 * `headers.Host`, or a query parameter such as `limit`).
 */
export class HookrelayError extends Error {
  readonly status: number;
  /** Stable code: `validation_failed`, `not_found`, `unauthorized`, `forbidden`, … */
  readonly type: Problem["type"] | (string & {});
  readonly title: string;
  readonly detail: string;
  /** One entry per failing field (422 `validation_failed`); empty otherwise. */
  readonly errors: FieldError[];
  readonly response: Response;

  constructor(response: Response, body: unknown) {
    const problem = (typeof body === "object" && body !== null ? body : {}) as Partial<Problem>;
    const title = problem.title ?? (response.statusText || `HTTP ${response.status}`);
    const detail = problem.detail ?? (typeof body === "string" ? body : "");
    super(detail ? `${title}: ${detail}` : title);
    this.name = "HookrelayError";
    this.status = problem.status ?? response.status;
    this.type = problem.type ?? "about:blank";
    this.title = title;
    this.detail = detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.response = response;
  }

  /** The message for one field of a 422, if that field failed. */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message;
  }
}

type InitParam<Init> =
  RequiredKeysOf<Init> extends never ? [(Init & { [key: string]: unknown })?] : [Init & { [key: string]: unknown }];
type Success<T, Init> =
  T extends Record<string | number, any> ? Exclude<FetchResponse<T, Init, MediaType>, { error: unknown }>["data"] : never;
/** Like openapi-fetch's methods, but resolving to the 2xx body and throwing `HookrelayError` otherwise. */
export type Method<M extends HttpMethod> = <
  P extends PathsWithMethod<paths, M>,
  I extends MaybeOptionalInit<paths[P], M>,
>(
  url: P,
  ...init: InitParam<I>
) => Promise<Success<paths[P][M], I>>;

export interface HookrelayClient {
  GET: Method<"get">;
  POST: Method<"post">;
  PATCH: Method<"patch">;
  DELETE: Method<"delete">;
  /** The same client with another bearer token (a JWT from login, or an `hrk_` API key). */
  withToken(token: string): HookrelayClient;
  /** The underlying openapi-fetch client (answers `{data, error, response}`, never throws for a status). */
  readonly raw: Client<paths>;
}

export interface HookrelayOptions {
  /** e.g. `http://127.0.0.1:8080` (no `/api/v1`: the paths carry it) */
  baseUrl: string;
  /** A JWT from `POST /api/v1/auth/login`, or an `hrk_` API key. */
  token?: string;
  /** A fetch implementation (default: the global one). */
  fetch?: (input: Request) => Promise<Response>;
  headers?: Record<string, string>;
}

export function createHookrelayClient(options: HookrelayOptions): HookrelayClient {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const raw = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch, headers });
  const method =
    <M extends HttpMethod>(name: M): Method<M> =>
    async (url, ...init) => {
      const result = (await raw.request(name, url as never, ...(init as [never]))) as {
        data?: unknown;
        error?: unknown;
        response: Response;
      };
      if (!result.response.ok) throw new HookrelayError(result.response, result.error);
      return result.data as never;
    };
  return {
    GET: method("get"),
    POST: method("post"),
    PATCH: method("patch"),
    DELETE: method("delete"),
    withToken: (token) => createHookrelayClient({ ...options, token }),
    raw,
  };
}

/** What every list endpoint answers: newest first, `nextCursor` null on the last page. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * Every page of a list, following `nextCursor` until it is null (or a page is empty).
 * `fetchPage` gets `undefined` for the first page and the previous page's cursor after.
 */
export async function* pages<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<Page<T>> {
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield page;
    if (page.nextCursor === null || page.data.length === 0) return;
    cursor = page.nextCursor;
  }
}

/** Every item of a list, across pages (see `pages`). */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  for await (const page of pages(fetchPage)) yield* page.data;
}
