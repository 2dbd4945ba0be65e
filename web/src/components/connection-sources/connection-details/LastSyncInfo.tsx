/**
 * The outcome of the last finished import: status, time, ticket count, range, error. While a new
 * import runs, the previous result stays (the latest run is then the active one).
 */
import type { Connection, IngestionRun } from "../../../api/client";
import { t, tMaybe } from "../../../i18n";
import { ErrorDetail } from "../errorText";
import { formatDateTime } from "./format";

interface Props {
  connection: Connection;
  finished: IngestionRun | null;
  running: boolean;
  system: string;
}

export function LastSyncInfo({ connection, finished, running, system }: Props) {
  const status = finished?.status ?? connection.last_sync_status;
  const error = finished ? finished.error_message : connection.last_sync_error;
  const code = finished?.error_code;
  return (
    <section className="panel" aria-labelledby="last-sync-heading" data-testid="last-sync">
      <h3 id="last-sync-heading" className="panel-subtitle">{t("config.lastSync.heading")}</h3>
      {!status ? (
        <p className="muted">{t("config.lastSync.none")}</p>
      ) : (
        <>
          {running && <p className="muted small">{t("config.lastSync.previous")}</p>}
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
              <dd data-testid="last-sync-when">{formatDateTime(finished?.completed_at ?? connection.last_sync_at) || "—"}</dd>
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
                <dd data-testid="last-sync-range">{t("config.import.days", { days: finished.time_range_days })}</dd>
              </div>
            )}
            {(error || code) && status !== "completed" && (
              <div className="fact-wide">
                <dt>{t("config.lastSync.error")}</dt>
                <dd data-testid="last-sync-error">
                  <ErrorDetail code={code} detail={error} system={system} />
                </dd>
              </div>
            )}
          </dl>
        </>
      )}
    </section>
  );
}
