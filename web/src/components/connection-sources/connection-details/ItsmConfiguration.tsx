/**
 * The configuration page of a verified ITSM connection: status card, time range (30/60/90 days),
 * Import tickets / Cancel, a progress bar fed by the run's events, and the last sync.
 */
import { useId, useState } from "react";
import type { Connection, IngestionRun } from "../../../api/client";
import { describeError } from "../../../api/problem";
import { TIME_RANGES, useConnectionActions, type TimeRange } from "../../../hooks/useConnectionActions";
import { t, type MessageKey } from "../../../i18n";
import { ConnectionStatusCard } from "./ConnectionStatusCard";
import { ImportProgress } from "./ImportProgress";
import { LastSyncInfo } from "./LastSyncInfo";

export interface ItsmConfigurationProps {
  connection: Connection;
  run: IngestionRun | null;
  onEdit: () => void;
}

interface Spec {
  title: MessageKey;
  siteField: string;
  accountField: string;
}

const ACTIVE = new Set(["pending", "running"]);

export function ItsmConfiguration({ connection, run, onEdit, spec }: ItsmConfigurationProps & { spec: Spec }) {
  const groupId = useId();
  const { syncTickets, cancelIngestion } = useConnectionActions(connection.id);
  const [days, setDays] = useState<TimeRange>(30);
  const [pending, setPending] = useState<"start" | "cancel" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const activeRun = run && ACTIVE.has(run.status) ? run : null;
  const syncing = connection.status === "syncing" || activeRun !== null;
  const canImport = connection.enabled && connection.status === "idle" && !activeRun;

  async function act(kind: "start" | "cancel") {
    setPending(kind);
    setError(null);
    try {
      await (kind === "start" ? syncTickets(days) : cancelIngestion());
    } catch (e) {
      setError(describeError(e).message);
    } finally {
      setPending(null);
    }
  }

  return (
    <div className="config">
      <h2 className="panel-title">{t(spec.title)}</h2>
      <ConnectionStatusCard
        connection={connection}
        siteField={spec.siteField}
        accountField={spec.accountField}
        onEdit={onEdit}
      />
      <section className="panel" aria-labelledby={`${groupId}-import`}>
        <h3 id={`${groupId}-import`} className="panel-subtitle">{t("config.import.heading")}</h3>
        {!connection.enabled && <p className="muted">{t("config.import.notVerified")}</p>}
        <fieldset className="segmented" disabled={syncing || pending !== null}>
          <legend>{t("config.import.timeRange")}</legend>
          {TIME_RANGES.map((value) => (
            <label key={value} className={`segment ${days === value ? "segment-on" : ""}`}>
              <input
                type="radio"
                name={`${groupId}-range`}
                value={value}
                checked={days === value}
                onChange={() => setDays(value)}
              />
              {t("config.import.days", { days: value })}
            </label>
          ))}
        </fieldset>
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
              onClick={() => void act("start")}
            >
              {pending === "start" ? t("config.import.starting") : t("config.import.start")}
            </button>
          )}
          {syncing && (
            <button
              type="button"
              className="btn btn-danger"
              disabled={pending !== null}
              onClick={() => void act("cancel")}
            >
              {pending === "cancel" ? t("config.import.cancelling") : t("config.import.cancel")}
            </button>
          )}
        </div>
      </section>
      <LastSyncInfo connection={connection} run={run} />
    </div>
  );
}
