/** The outcome of the last finished import: status, time, ticket count, error. */
import type { Connection, IngestionRun } from "../../../api/client";
import { t, tMaybe } from "../../../i18n";
import { formatDateTime } from "./format";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

export function LastSyncInfo({ connection, run }: { connection: Connection; run: IngestionRun | null }) {
  const finished = run && TERMINAL.has(run.status) ? run : null;
  const status = connection.last_sync_status ?? finished?.status;
  return (
    <section className="panel" aria-labelledby="last-sync-heading" data-testid="last-sync">
      <h3 id="last-sync-heading" className="panel-subtitle">{t("config.lastSync.heading")}</h3>
      {!status ? (
        <p className="muted">{t("config.lastSync.none")}</p>
      ) : (
        <dl className="facts">
          <div>
            <dt>{t("config.lastSync.status")}</dt>
            <dd>
              <span className={`badge badge-sync-${status}`} data-testid="last-sync-status">
                {tMaybe(`config.lastSync.${status}`) ?? status}
              </span>
            </dd>
          </div>
          <div>
            <dt>{t("config.lastSync.when")}</dt>
            <dd>{formatDateTime(connection.last_sync_at ?? finished?.completed_at) || "—"}</dd>
          </div>
          {finished && (
            <div>
              <dt>{t("config.lastSync.records")}</dt>
              <dd data-testid="last-sync-records">
                {finished.records_processed}
                {finished.records_failed > 0 &&
                  ` (${t("config.lastSync.failedRecords", { count: finished.records_failed })})`}
              </dd>
            </div>
          )}
          {finished && (
            <div>
              <dt>{t("config.lastSync.range")}</dt>
              <dd>{t("config.import.days", { days: finished.time_range_days })}</dd>
            </div>
          )}
          {(connection.last_sync_error ?? finished?.error_message) && (
            <div className="fact-wide">
              <dt>{t("config.lastSync.error")}</dt>
              <dd>{connection.last_sync_error ?? finished?.error_message}</dd>
            </div>
          )}
        </dl>
      )}
    </section>
  );
}
