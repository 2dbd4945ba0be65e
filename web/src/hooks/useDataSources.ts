/** Loading hooks: a category's rows and one connection with its latest and last finished run. */
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

/** The rows of one console list, in console order (the API ensures the default rows exist). */
export function useConnections(category: Category): Loadable & { rows: Connection[] } {
  const { api, store } = useServices();
  useStoreVersion();
  const load = useCallback(async () => {
    const params = { query: { category } };
    store.putConnections(unwrap(await api.client.GET("/api/data-sources", { params })).data);
  }, [api, store, category]);
  const state = useLoader(load);
  const order = CATEGORY_ORDER[category];
  const rows = store
    .connections()
    .filter((row) => order.includes(row.type))
    .sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  return { ...state, rows };
}

/** Runs read from the history to find the last finished one behind an active run. */
const HISTORY_LIMIT = 5;

/** One connection, its latest ingestion run, and its last finished run (for Last sync). */
export function useConnection(id: string) {
  const { api, store } = useServices();
  useStoreVersion();
  const load = useCallback(async () => {
    const path = { connection_id: id };
    const [row, run, history] = await Promise.all([
      api.client.GET("/api/data-sources/{connection_id}", { params: { path } }),
      api.client.GET("/api/data-sources/{connection_id}/ingestion-runs/latest", {
        params: { path },
      }),
      api.client.GET("/api/data-sources/{connection_id}/ingestion-runs", {
        params: { path, query: { limit: HISTORY_LIMIT } },
      }),
    ]);
    store.putConnections([unwrap(row)]);
    store.putRun(id, unwrap(run) ?? null);
    // The history only adds the previous result; a failure to read it hides nothing else.
    for (const past of history.data?.data ?? []) store.putFinishedRun(id, past);
  }, [api, store, id]);
  const state = useLoader(load);
  return {
    ...state,
    row: store.connection(id),
    run: store.latestRun(id) ?? null,
    lastFinished: store.lastFinishedRun(id) ?? null,
  };
}
