/** Loading hooks: a category's rows (seeded on first visit) and one connection with its last run. */
import { useCallback, useEffect, useState } from "react";
import type { Connection } from "../api/client";
import type { Problem } from "../api/problem";
import { CATEGORY_ORDER, type Category } from "../constants/connectionSources";
import { useServices, useStoreVersion } from "../state/context";

export interface Loadable {
  loading: boolean;
  error: unknown;
  reload: () => void;
}

/** Turn an openapi-fetch result into its data, or throw the problem body with its status. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const body = (typeof result.error === "object" && result.error) || {};
    throw { ...(body as Problem), status: result.response.status } satisfies Problem;
  }
  return result.data as T;
}

function useLoader(load: () => Promise<void>): Loadable {
  const { resyncEpoch } = useServices();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load()
      .then(() => live && setError(null))
      .catch((e: unknown) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [load, attempt, resyncEpoch]);
  return { loading, error, reload: useCallback(() => setAttempt((n) => n + 1), []) };
}

/** The rows of one console list, in console order; seeds the tenant's rows when there are none. */
export function useConnections(category: Category): Loadable & { rows: Connection[] } {
  const { api, store } = useServices();
  useStoreVersion();
  const load = useCallback(async () => {
    const params = { query: { category } };
    let page = unwrap(await api.client.GET("/api/data-sources", { params }));
    if (page.count === 0) {
      page = unwrap(await api.client.POST("/api/data-sources/seed"));
    }
    store.putConnections(page.data);
  }, [api, store, category]);
  const state = useLoader(load);
  const order = CATEGORY_ORDER[category];
  const rows = store
    .connections()
    .filter((row) => order.includes(row.type))
    .sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  return { ...state, rows };
}

/** One connection and its latest ingestion run. */
export function useConnection(id: string) {
  const { api, store } = useServices();
  useStoreVersion();
  const load = useCallback(async () => {
    const path = { connection_id: id };
    const [row, run] = await Promise.all([
      api.client.GET("/api/data-sources/{connection_id}", { params: { path } }),
      api.client.GET("/api/data-sources/{connection_id}/ingestion-runs/latest", {
        params: { path },
      }),
    ]);
    store.putConnections([unwrap(row)]);
    store.putRun(id, unwrap(run) ?? null);
  }, [api, store, id]);
  const state = useLoader(load);
  return { ...state, row: store.connection(id), run: store.latestRun(id) ?? null };
}
