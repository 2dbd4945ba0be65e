/** The console shell: sidebar, live-update indicator, routes; owns the SSE connection. */
import { useEffect, useMemo, useState } from "react";
import { BrowserRouter, Navigate, NavLink, Route, Routes } from "react-router-dom";
import type { Api } from "./api/client";
import { unwrap } from "./hooks/useDataSources";
import { t } from "./i18n";
import ConnectionSourceDetailPage from "./pages/ConnectionSourceDetailPage";
import ConnectionSourcesPage from "./pages/ConnectionSourcesPage";
import { ServicesProvider } from "./state/context";
import { LiveEvents, type LiveState } from "./state/live";
import type { ConnectionStore } from "./state/store";

function LiveIndicator({ state }: { state: LiveState }) {
  return (
    <span className={`live live-${state}`} role="status" data-testid="live-state">
      <span className="live-dot" aria-hidden="true" />
      {t(`app.live.${state}`)}
    </span>
  );
}

export function Shell({ api, store, live = true }: { api: Api; store: ConnectionStore; live?: boolean }) {
  const [resyncEpoch, setResyncEpoch] = useState(0);
  const [liveState, setLiveState] = useState<LiveState>("connecting");

  useEffect(() => {
    if (!live) return;
    const events = new LiveEvents({
      eventsToken: async () => unwrap(await api.client.POST("/api/events/token")).access_token,
      onConnection: (row) => store.putConnections([row]),
      onRun: (run) => store.putRun(run.connection_id, run),
      onResync: () => setResyncEpoch((n) => n + 1),
      onState: setLiveState,
    });
    events.start();
    return () => events.stop();
  }, [api, store, live]);

  const services = useMemo(() => ({ api, store, resyncEpoch }), [api, store, resyncEpoch]);
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
          <div className="topbar">
            <span className="topbar-path">
              {t("app.settings")} / {t("app.connectionSources")}
            </span>
            {live && <LiveIndicator state={liveState} />}
          </div>
          <main id="main" tabIndex={-1}>
            <Routes>
              <Route path="/" element={<Navigate to="/settings/connections/itsm" replace />} />
              <Route path="/settings" element={<Navigate to="/settings/connections/itsm" replace />} />
              <Route path="/settings/connections" element={<Navigate to="/settings/connections/itsm" replace />} />
              <Route path="/settings/connections/:category" element={<ConnectionSourcesPage />} />
              <Route path="/settings/connections/itsm/:id" element={<ConnectionSourceDetailPage />} />
              <Route path="*" element={<Navigate to="/settings/connections/itsm" replace />} />
            </Routes>
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
