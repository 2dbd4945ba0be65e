/** Progress of an active run: records_processed of total_estimated, or a count while unknown. */
import type { IngestionRun } from "../../../api/client";
import { t } from "../../../i18n";

export function ImportProgress({ run }: { run: IngestionRun }) {
  const total = run.total_estimated ?? 0;
  const processed = run.records_processed ?? 0;
  const known = total > 0;
  const percent = known ? Math.min(100, Math.round((processed / total) * 100)) : 0;
  const text =
    run.status === "pending"
      ? t("config.import.waitingToStart")
      : known
        ? t("config.import.progress", { processed, total })
        : t("config.import.progressUnknown", { processed });
  return (
    <div className="progress-block">
      <div
        className={`progress ${known ? "" : "progress-indeterminate"}`}
        role="progressbar"
        aria-label={t("config.import.progressLabel")}
        aria-valuemin={0}
        aria-valuemax={known ? total : undefined}
        aria-valuenow={known ? Math.min(processed, total) : undefined}
        aria-valuetext={text}
      >
        <div className="progress-fill" style={known ? { width: `${percent}%` } : undefined} />
      </div>
      <p className="progress-text" aria-live="polite" data-testid="progress-text">
        {text}
        {known && <span className="progress-percent"> · {percent}%</span>}
      </p>
    </div>
  );
}
