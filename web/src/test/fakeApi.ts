/** A fetch double for unit tests: routes by "METHOD /path" and records every request. */
import type { Connection, IngestionRun } from "../api/client";

export interface Call {
  method: string;
  path: string;
  body: unknown;
  auth: string | null;
}
type Handler = (call: Call) => { status?: number; body: unknown };

export function fakeFetch(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const impl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const text = await request.text();
    const call: Call = {
      method: request.method,
      path: url.pathname + url.search,
      body: text ? JSON.parse(text) : undefined,
      auth: request.headers.get("authorization"),
    };
    calls.push(call);
    const handler = routes[`${call.method} ${url.pathname}`];
    if (!handler) return new Response(JSON.stringify({ code: "not_found" }), { status: 404 });
    const { status = 200, body } = handler(call);
    const type = status >= 400 ? "application/problem+json" : "application/json";
    return new Response(JSON.stringify(body), { status, headers: { "content-type": type } });
  };
  return { fetch: impl as typeof fetch, calls };
}

const NOW = "2026-01-20T10:00:00Z";

export function connection(overrides: Partial<Connection> = {}): Connection {
  return {
    id: "11111111-1111-4111-8111-111111111111",
    tenant_id: "00000000-0000-4000-8000-00000000de00",
    type: "jira_itsm",
    name: "Jira ITSM",
    description: "Import tickets from Jira for Autopilot clustering",
    settings: {},
    config: {},
    latest_options: null,
    status: "idle",
    enabled: false,
    version: 1,
    created_at: NOW,
    updated_at: NOW,
    ...overrides,
  };
}

export function run(overrides: Partial<IngestionRun> = {}): IngestionRun {
  return {
    id: "22222222-2222-4222-8222-222222222222",
    tenant_id: "00000000-0000-4000-8000-00000000de00",
    connection_id: "11111111-1111-4111-8111-111111111111",
    status: "running",
    time_range_days: 30,
    records_processed: 0,
    records_failed: 0,
    total_estimated: null,
    metadata: {},
    created_at: NOW,
    updated_at: NOW,
    ...overrides,
  };
}

/** The dev-token route every fake API needs (the client mints a token on first use). */
export const devToken: Record<string, Handler> = {
  "POST /api/dev/token": () => ({ body: { access_token: "dev.token.x", token_type: "bearer", expires_in: 3600 } }),
};
