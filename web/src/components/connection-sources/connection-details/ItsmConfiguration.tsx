/**
 * The configuration page of a verified ITSM connection, the same for every system (its
 * differences come from `types/`): status card, import scope, time range (30/60/90 days),
 * Import tickets / Cancel, progress fed by the run's events, and the last sync. A read-only
 * caller sees everything with the actions disabled and the reason beside them.
 */
import { useEffect, useId, useState } from "react";
import type { Connection, IngestionRun } from "../../../api/client";
import { describeError } from "../../../api/problem";
import { TIME_RANGES, useConnectionActions, type TimeRange } from "../../../hooks/useConnectionActions";
import { t } from "../../../i18n";
import { useServices } from "../../../state/context";
import type { ItsmTypeSpec } from "../types";
import { ConnectionStatusCard } from "./ConnectionStatusCard";
import { ImportProgress } from "./ImportProgress";
import { ImportScope, sameScope, storedScope, type ScopeChoice } from "./ImportScope";
import { LastSyncInfo } from "./LastSyncInfo";

export interface ItsmConfigurationProps {
  connection: Connection;
  run: IngestionRun | null;
  lastFinished: IngestionRun | null;
  spec: ItsmTypeSpec;
  onEdit: () => void;
}

const ACTIVE = new Set(["pending", "running"]);

export function ItsmConfiguration({ connection, run, lastFinished, spec, onEdit }: ItsmConfigurationProps) {
  const groupId = useId();
  const { session, announce } = useServices();
  const readOnly = !session.canChange;
  const reasonId = `${groupId}-readonly`;
  const { syncTickets, cancelIngestion, saveConfig } = useConnectionActions(connection.id);
  const [days, setDays] = useState<TimeRange>(30);
  const [pending, setPending] = useState<"start" | "cancel" | "save" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [scopeError, setScopeError] = useState<string | null>(null);
  const { configKey } = spec.scope;
  const saved = storedScope(connection.config, configKey);
  const [scope, setScope] = useState<ScopeChoice>(saved);
  const dirty = !sameScope(scope, saved);
  const savedKey = JSON.stringify(saved);
  // Another tab (or the API) changed the stored scope: follow it unless the user is editing.
  useEffect(() => {
    if (!dirty) setScope(JSON.parse(savedKey) as ScopeChoice);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [savedKey]);

  const activeRun = run && ACTIVE.has(run.status) ? run : null;
  const syncing = connection.status === "syncing" || activeRun !== null;
  const canImport = !readOnly && connection.enabled && connection.status === "idle" && !activeRun;
  // After a reload or in a second tab, the choice shows the range of the import that runs.
  const shownDays = (activeRun?.time_range_days as TimeRange | undefined) ?? days;

  async function saveScope(): Promise<boolean> {
    if (scope.mode === "selected" && scope.ids.length === 0) {
      setScopeError(t(spec.scope.pickOne));
      return false;
    }
    setScopeError(null);
    if (!dirty) return true;
    await saveConfig({ ...(connection.config ?? {}), [configKey]: scope.mode === "all" ? [] : scope.ids });
    return true;
  }

  async function act(kind: "start" | "cancel" | "save") {
    setPending(kind);
    setError(null);
    try {
      if (kind === "cancel") {
        await cancelIngestion();
        announce(t("announce.cancelRequested", { name: spec.system }));
      } else if (await saveScope()) {
        if (kind === "start") {
          await syncTickets(days);
          announce(t("announce.importStarted", { name: spec.system }));
        } else {
          announce(t("config.import.saved"), "success");
        }
      }
    } catch (e) {
      const shown = describeError(e, [], { [configKey]: t(spec.scope.legend) });
      // A refused scope (e.g. an id the last verification no longer lists) is shown on the scope.
      const scopeProblem = shown.fields[configKey];
      if (scopeProblem) setScopeError(scopeProblem);
      else setError(shown.message);
      announce(t("announce.actionFailed", { message: scopeProblem ?? shown.message }), "error");
    } finally {
      setPending(null);
    }
  }

  const options = spec.scope.options(connection.latest_options);
  return (
    <div className="config">
      <h2 className="panel-title">{t(spec.configuration.title)}</h2>
      {readOnly && (
        <p className="notice" id={reasonId} data-testid="read-only-reason">
          {t("readOnly.notice", { role: session.me?.role ?? "member" })}
        </p>
      )}
      <ConnectionStatusCard
        connection={connection}
        spec={spec}
        onEdit={onEdit}
        readOnlyReasonId={readOnly ? reasonId : undefined}
      />
      <section className="panel" aria-labelledby={`${groupId}-import`}>
        <h3 id={`${groupId}-import`} className="panel-subtitle">{t("config.import.heading")}</h3>
        {!connection.enabled && <p className="muted">{t("config.import.notVerified")}</p>}
        <ImportScope
          spec={spec}
          options={options}
          value={scope}
          onChange={(next) => {
            setScope(next);
            setScopeError(null);
          }}
          disabled={readOnly || syncing || pending !== null || !connection.enabled}
          error={scopeError}
          describedBy={readOnly ? reasonId : undefined}
        />
        <fieldset className="segmented" disabled={readOnly || syncing || pending !== null} aria-describedby={readOnly ? reasonId : undefined}>
          <legend>{t("config.import.timeRange")}</legend>
          {TIME_RANGES.map((value) => (
            <label key={value} className={`segment ${shownDays === value ? "segment-on" : ""}`}>
              <input
                type="radio"
                name={`${groupId}-range`}
                value={value}
                checked={shownDays === value}
                onChange={() => setDays(value)}
              />
              {t("config.import.days", { days: value })}
            </label>
          ))}
        </fieldset>
        {activeRun && (
          <p className="muted small" data-testid="active-range">
            {t("config.import.activeRange", { days: activeRun.time_range_days })}
          </p>
        )}
        {error && (
          <div className="alert alert-error" role="alert">
            {error}
          </div>
        )}
        {activeRun && <ImportProgress run={activeRun} />}
        <div className="button-row">
          {!syncing && (
            <button
              type="button"
              className="btn btn-primary"
              disabled={!canImport || pending !== null}
              aria-describedby={readOnly ? reasonId : undefined}
              onClick={() => void act("start")}
            >
              {pending === "start" ? t("config.import.starting") : t("config.import.start")}
            </button>
          )}
          {!syncing && dirty && (
            <button
              type="button"
              className="btn btn-secondary"
              disabled={!canImport || pending !== null}
              onClick={() => void act("save")}
            >
              {pending === "save" ? t("config.import.saving") : t("config.import.save")}
            </button>
          )}
          {syncing && (
            <button
              type="button"
              className="btn btn-danger"
              disabled={readOnly || pending !== null}
              aria-describedby={readOnly ? reasonId : undefined}
              onClick={() => void act("cancel")}
            >
              {pending === "cancel" ? t("config.import.cancelling") : t("config.import.cancel")}
            </button>
          )}
        </div>
      </section>
      <LastSyncInfo connection={connection} finished={lastFinished} running={syncing} system={spec.system} />
    </div>
  );
}
