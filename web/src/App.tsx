/** The console shell: sidebar, caller and live-update indicator, notifications, routes; owns the SSE connection. */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { BrowserRouter, Navigate, NavLink, Route, Routes } from "react-router-dom";
import { canChange, fetchMe, type Api, type Me } from "./api/client";
import { unwrap } from "./hooks/useDataSources";
import { t, tMaybe } from "./i18n";
import ConnectionSourceDetailPage from "./pages/ConnectionSourceDetailPage";
import ConnectionSourcesPage from "./pages/ConnectionSourcesPage";
import { ServicesProvider, type Session, type Tone } from "./state/context";
import { LiveEvents, type LiveState } from "./state/live";
import type { ConnectionStore } from "./state/store";

/** How long the stream may be down before the console says so and starts polling. */
export const PAUSE_AFTER_MS = 3_000;
/** While live updates are paused, what is on screen is refetched this often. */
export const POLL_MS = 10_000;
const TOAST_MS = 8_000;

type Indicator = LiveState | "paused";

function LiveIndicator({ state }: { state: Indicator }) {
  return (
    <span className={`live live-${state}`} role="status" data-testid="live-state">
      <span className="live-dot" aria-hidden="true" />
      {t(`app.live.${state}`)}
    </span>
  );
}

interface Note {
  id: number;
  message: string;
  tone: Tone;
}

/** The `aria-live` region: outcomes of verify, import and cancel, shown as toasts for a while. */
function Notifications({ notes, dismiss }: { notes: Note[]; dismiss: (id: number) => void }) {
  return (
    <div className="toasts" role="status" aria-live="polite" aria-label={t("app.announcements")} data-testid="announcements">
      {notes.map((note) => (
        <div key={note.id} className={`toast toast-${note.tone}`}>
          <span>{note.message}</span>
          <button type="button" className="toast-close" onClick={() => dismiss(note.id)} aria-label={t("app.dismiss")}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

function useSession(api: Api): Session | null {
  const [session, setSession] = useState<Session | null>(null);
  useEffect(() => {
    let live = true;
    fetchMe(api)
      .then(({ me }) => {
        // Without an answer (an API without /api/me) the console keeps every action: the API enforces roles.
        if (live) setSession({ me: me ?? null, canChange: me ? canChange(me.role) : true });
      })
      .catch(() => live && setSession({ me: null, canChange: true }));
    return () => {
      live = false;
    };
  }, [api]);
  return session;
}

export interface ShellProps {
  api: Api;
  store: ConnectionStore;
  live?: boolean;
  /** Tests hand in an EventSource double. */
  createEventSource?: (url: string) => EventSource;
}

export function Shell({ api, store, live = true, createEventSource }: ShellProps) {
  const [resyncEpoch, setResyncEpoch] = useState(0);
  const [liveState, setLiveState] = useState<LiveState>("connecting");
  const [paused, setPaused] = useState(false);
  const [notes, setNotes] = useState<Note[]>([]);
  const nextNote = useRef(0);
  const session = useSession(api);

  useEffect(() => {
    if (!live) return;
    const events = new LiveEvents({
      eventsToken: async () => unwrap(await api.client.POST("/api/events/token")).access_token,
      onConnection: (row) => store.putConnections([row]),
      onRun: (run) => store.putRun(run.connection_id, run),
      onResync: () => setResyncEpoch((n) => n + 1),
      onState: setLiveState,
      ...(createEventSource ? { createEventSource } : {}),
    });
    events.start();
    return () => events.stop();
  }, [api, store, live, createEventSource]);

  // Down for longer than PAUSE_AFTER_MS (however many reconnect attempts in between): say so.
  const open = liveState === "open";
  useEffect(() => {
    if (!live) return;
    if (open) {
      setPaused(false);
      return;
    }
    const timer = setTimeout(() => setPaused(true), PAUSE_AFTER_MS);
    return () => clearTimeout(timer);
  }, [open, live]);

  // While paused, refetch what is on screen; the first `open` refetches once more (no cursor lost).
  useEffect(() => {
    if (!paused) return;
    const timer = setInterval(() => setResyncEpoch((n) => n + 1), POLL_MS);
    return () => clearInterval(timer);
  }, [paused]);

  const dismiss = useCallback((id: number) => setNotes((all) => all.filter((n) => n.id !== id)), []);
  const announce = useCallback(
    (message: string, tone: Tone = "info") => {
      const id = ++nextNote.current;
      setNotes((all) => [...all.slice(-2), { id, message, tone }]);
      setTimeout(() => dismiss(id), TOAST_MS);
    },
    [dismiss],
  );

  const services = useMemo(
    () => ({ api, store, resyncEpoch, announce, session: session ?? { me: null, canChange: false } }),
    [api, store, resyncEpoch, announce, session],
  );
  const me: Me | null = session?.me ?? null;
  return (
    <ServicesProvider value={services}>
      <a className="skip-link" href="#main">
        {t("app.skipToContent")}
      </a>
      <div className="layout">
        <aside className="sidebar">
          <div className="brand">
            <span className="brand-mark" aria-hidden="true">R</span>
            {t("app.brand")}
          </div>
          <nav aria-label={t("app.settings")}>
            <p className="nav-heading">{t("app.settings")}</p>
            <NavLink to="/settings/connections/itsm" className="nav-item nav-item-active">
              {t("app.connectionSources")}
            </NavLink>
          </nav>
        </aside>
        <div className="content">
          <header className="topbar">
            <span className="topbar-who" data-testid="signed-in-as">
              {me ? t("app.signedInAs", { who: me.email ?? me.subject, role: tMaybe(`app.roles.${me.role}`) ?? me.role }) : ""}
            </span>
            {live && <LiveIndicator state={paused ? "paused" : liveState} />}
          </header>
          <main id="main" tabIndex={-1}>
            <Notifications notes={notes} dismiss={dismiss} />
            {session === null ? (
              <div className="skeleton-panel" aria-busy="true" />
            ) : (
              <Routes>
                <Route path="/" element={<Navigate to="/settings/connections/itsm" replace />} />
                <Route path="/settings" element={<Navigate to="/settings/connections/itsm" replace />} />
                <Route path="/settings/connections" element={<Navigate to="/settings/connections/itsm" replace />} />
                <Route path="/settings/connections/:category" element={<ConnectionSourcesPage />} />
                <Route path="/settings/connections/itsm/:id" element={<ConnectionSourceDetailPage />} />
                <Route path="*" element={<Navigate to="/settings/connections/itsm" replace />} />
              </Routes>
            )}
          </main>
        </div>
      </div>
    </ServicesProvider>
  );
}

export default function App({ api, store }: { api: Api; store: ConnectionStore }) {
  return (
    <BrowserRouter>
      <Shell api={api} store={store} />
    </BrowserRouter>
  );
}
