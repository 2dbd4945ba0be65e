/** React access to the API client, the store, the caller's role, announcements and a resync signal. */
import { createContext, useContext, useSyncExternalStore, type ReactNode } from "react";
import type { Api, Me } from "../api/client";
import { ConnectionStore } from "./store";

export type Tone = "success" | "error" | "info";

export interface Session {
  me: Me | null;
  /** Whether the caller may connect, verify, import and cancel. */
  canChange: boolean;
}

export interface Services {
  api: Api;
  store: ConnectionStore;
  /** Bumped on SSE `resync`, after a reconnect without a cursor, and every 10 s while paused. */
  resyncEpoch: number;
  session: Session;
  /** Say something in the page's `aria-live` notification region (and show it as a toast). */
  announce: (message: string, tone?: Tone) => void;
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
