/** Verify, import, cancel and save the import scope: each sends one request and puts the answer into the store. */
import { useCallback } from "react";
import { useServices } from "../state/context";
import { unwrap } from "./useDataSources";

export type TimeRange = 30 | 60 | 90;
export const TIME_RANGES: readonly TimeRange[] = [30, 60, 90];

export function useConnectionActions(id: string) {
  const { api, store } = useServices();
  const verify = useCallback(
    async (settings: Record<string, string>, credentials: Record<string, string>) => {
      const result = await api.client.POST("/api/data-sources/{connection_id}/verify", {
        params: { path: { connection_id: id } },
        body: { settings, credentials },
      });
      store.putConnections([unwrap(result)]);
    },
    [api, store, id],
  );

  const refreshRow = useCallback(async () => {
    const row = await api.client.GET("/api/data-sources/{connection_id}", {
      params: { path: { connection_id: id } },
    });
    if (row.data) store.putConnections([row.data]);
  }, [api, store, id]);

  const syncTickets = useCallback(
    async (days: TimeRange) => {
      const result = await api.client.POST("/api/data-sources/{connection_id}/sync-tickets", {
        params: { path: { connection_id: id } },
        body: { time_range_days: days },
      });
      store.putRun(id, unwrap(result));
      await refreshRow();
    },
    [api, store, id, refreshRow],
  );

  const cancelIngestion = useCallback(async () => {
    const result = await api.client.POST("/api/data-sources/{connection_id}/cancel-ingestion", {
      params: { path: { connection_id: id } },
    });
    store.putRun(id, unwrap(result));
    await refreshRow();
  }, [api, store, id, refreshRow]);

  const saveConfig = useCallback(
    async (config: Record<string, unknown>) => {
      const result = await api.client.PATCH("/api/data-sources/{connection_id}", {
        params: { path: { connection_id: id } },
        body: { config },
      });
      store.putConnections([unwrap(result)]);
    },
    [api, store, id],
  );

  return { verify, syncTickets, cancelIngestion, saveConfig };
}
