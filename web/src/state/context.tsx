/** React access to the API client, the store, and a resync signal for SSE `resync` events. */
import { createContext, useContext, useSyncExternalStore, type ReactNode } from "react";
import type { Api } from "../api/client";
import { ConnectionStore } from "./store";

export interface Services {
  api: Api;
  store: ConnectionStore;
  /** Bumped on SSE `resync` (and after a reconnect without a cursor): views refetch. */
  resyncEpoch: number;
}

const ServicesContext = createContext<Services | null>(null);

export function ServicesProvider({ value, children }: { value: Services; children: ReactNode }) {
  return <ServicesContext.Provider value={value}>{children}</ServicesContext.Provider>;
}

export function useServices(): Services {
  const value = useContext(ServicesContext);
  if (!value) throw new Error("useServices outside ServicesProvider");
  return value;
}

/** Re-render when the store changes. */
export function useStoreVersion(): number {
  const { store } = useServices();
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
