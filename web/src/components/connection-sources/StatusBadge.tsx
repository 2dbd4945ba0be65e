/** A connection's state in one word, coloured; the colour is never the only signal. */
import type { Connection } from "../../api/client";
import { t, type MessageKey } from "../../i18n";

export function statusKey(row: Connection): MessageKey {
  if (row.status === "verifying") return "status.verifying";
  if (row.status === "syncing") return "status.syncing";
  if (row.enabled) return "status.connected";
  if (row.last_verification_error) return "status.verificationFailed";
  return "status.notConnected";
}

export function StatusBadge({ row }: { row: Connection }) {
  const key = statusKey(row);
  const tone = key.split(".")[1];
  return (
    <span className={`badge badge-${tone}`} data-testid="status-badge">
      <span className="badge-dot" aria-hidden="true" />
      {t(key)}
    </span>
  );
}
