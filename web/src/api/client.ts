/** The typed API client (openapi-fetch over the generated `schema.d.ts`) with bearer auth. */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { TokenSource } from "./auth";

export type Connection = components["schemas"]["ConnectionPublic"];
export type IngestionRun = components["schemas"]["IngestionRunPublic"];
export type ApiClient = Client<paths>;

export interface Api {
  client: ApiClient;
  tokens: TokenSource;
}

/** Build the client; `fetchImpl` lets tests answer requests without a server. */
export function createApi(fetchImpl: typeof fetch = (...a) => fetch(...a)): Api {
  const tokens = new TokenSource(fetchImpl);
  const auth: Middleware = {
    async onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${await tokens.get()}`);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401) tokens.invalidate();
      return response;
    },
  };
  const client = createClient<paths>({ baseUrl: window.location.origin, fetch: fetchImpl });
  client.use(auth);
  return { client, tokens };
}

/** The signed-in caller (`GET /api/me`, DESIGN §9): the console shows members a read-only view. */
export type Me = components["schemas"]["MePublic"];

/** Owners and admins change connections; members read (the API enforces it either way). */
export function canChange(role: string | null | undefined): boolean {
  return role === "owner" || role === "admin";
}

/** The caller's identity and role, through the same client (bearer token, 401 handling). */
export async function fetchMe(api: Api): Promise<{ me?: Me; status: number }> {
  const { data, response } = await api.client.GET("/api/me");
  return { me: response.ok ? data : undefined, status: response.status };
}
