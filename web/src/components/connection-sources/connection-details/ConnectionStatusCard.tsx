/** The connection's state (verifying / idle / syncing), the verified site and account, actions. */
import type { Connection } from "../../../api/client";
import { t } from "../../../i18n";
import { StatusBadge } from "../StatusBadge";
import { formatDateTime } from "./format";

interface Props {
  connection: Connection;
  siteField: string;
  accountField: string;
  onEdit: () => void;
}

export function ConnectionStatusCard({ connection, siteField, accountField, onEdit }: Props) {
  const failed = !connection.enabled && Boolean(connection.last_verification_error);
  const hint =
    connection.status === "verifying"
      ? t("config.status.verifyingHint")
      : connection.status === "syncing"
        ? t("config.status.syncingHint")
        : failed
          ? t("config.status.failedHint", { error: connection.last_verification_error ?? "" })
          : t("config.status.idleHint");
  return (
    <section className="panel status-card" aria-labelledby="status-heading">
      <div className="panel-head">
        <h3 id="status-heading" className="panel-subtitle">{t("config.status.heading")}</h3>
        <StatusBadge row={connection} />
      </div>
      <p className={failed ? "alert alert-error" : "status-hint"} role={failed ? "alert" : undefined}>
        {hint}
      </p>
      <dl className="facts">
        <div>
          <dt>{t("config.status.site")}</dt>
          <dd>{String(connection.settings?.[siteField] ?? "—")}</dd>
        </div>
        <div>
          <dt>{t("config.status.account")}</dt>
          <dd>{String(connection.settings?.[accountField] ?? "—")}</dd>
        </div>
        <div>
          <dt>{t("config.status.lastVerified")}</dt>
          <dd>{formatDateTime(connection.last_verification_at) || t("config.status.never")}</dd>
        </div>
      </dl>
      <div className="button-row" role="group" aria-label={t("config.status.actions")}>
        {failed ? (
          <button type="button" className="btn btn-primary" onClick={onEdit}>
            {t("config.status.reverify")}
          </button>
        ) : (
          <button
            type="button"
            className="btn btn-secondary"
            onClick={onEdit}
            disabled={connection.status !== "idle"}
          >
            {t("config.status.edit")}
          </button>
        )}
      </div>
    </section>
  );
}
