/** The connection's state (verifying / idle / syncing), the verified site and account, actions. */
import type { Connection } from "../../../api/client";
import { t } from "../../../i18n";
import { ErrorDetail, isCredentialCode } from "../errorText";
import { StatusBadge } from "../StatusBadge";
import type { ItsmTypeSpec } from "../types";
import { formatDateTime } from "./format";

interface Props {
  connection: Connection;
  spec: ItsmTypeSpec;
  onEdit: () => void;
  /** Set for a read-only caller: the id of the visible reason the actions are disabled. */
  readOnlyReasonId?: string | undefined;
}

export function verificationFailed(connection: Connection): boolean {
  return (
    !connection.enabled &&
    connection.status === "idle" &&
    Boolean(connection.last_verification_error || connection.last_verification_error_code)
  );
}

export function ConnectionStatusCard({ connection, spec, onEdit, readOnlyReasonId }: Props) {
  const failed = verificationFailed(connection);
  const { siteField, accountField } = spec.configuration;
  const readOnly = readOnlyReasonId !== undefined;
  let hint;
  if (connection.status === "verifying") hint = t("config.status.verifyingHint");
  else if (connection.status === "syncing") hint = t("config.status.syncingHint");
  else if (failed)
    hint = (
      <>
        {t("config.status.failedHint", { error: "" })}
        <ErrorDetail code={connection.last_verification_error_code} detail={connection.last_verification_error} system={spec.system} />
      </>
    );
  else if (!connection.enabled) hint = t("config.status.notConnectedHint");
  else hint = t("config.status.idleHint");
  const credentialProblem = failed && isCredentialCode(connection.last_verification_error_code);
  return (
    <section className="panel status-card" aria-labelledby="status-heading">
      <div className="panel-head">
        <h3 id="status-heading" className="panel-subtitle">{t("config.status.heading")}</h3>
        <StatusBadge row={connection} />
      </div>
      <p className={failed ? "alert alert-error" : "status-hint"} role={failed ? "alert" : undefined} data-testid="status-hint">
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
          <dd data-testid="last-verified">{formatDateTime(connection.last_verified_at) || t("config.status.never")}</dd>
        </div>
      </dl>
      <div className="button-row" role="group" aria-label={t("config.status.actions")}>
        <button
          type="button"
          className={failed ? "btn btn-primary" : "btn btn-secondary"}
          onClick={onEdit}
          disabled={readOnly || connection.status === "syncing"}
          aria-describedby={readOnlyReasonId}
        >
          {credentialProblem
            ? t("config.status.reverify")
            : failed
              ? t("config.status.verifyAgain")
              : t("config.status.edit")}
        </button>
      </div>
    </section>
  );
}
