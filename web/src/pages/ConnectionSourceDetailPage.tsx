/**
 * `/settings/connections/itsm/:id`: the system's form until a verification has succeeded once
 * (`last_verified_at`), then its configuration. A read-only caller never gets a form. Outcomes of
 * verify and import are announced, whichever tab or request started them.
 */
import { useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import type { Connection, IngestionRun } from "../api/client";
import { describeError } from "../api/problem";
import { ItsmConfiguration } from "../components/connection-sources/connection-details/ItsmConfiguration";
import { CredentialsForm } from "../components/connection-sources/connection-forms/CredentialsForm";
import { codeSentence } from "../components/connection-sources/errorText";
import { SourceIcon } from "../components/connection-sources/SourceIcon";
import { ITSM_TYPES, type ItsmTypeSpec } from "../components/connection-sources/types";
import { useConnection } from "../hooks/useDataSources";
import { usePageTitle } from "../hooks/usePageTitle";
import { t, tMaybe } from "../i18n";
import { useServices, type Tone } from "../state/context";

/** A verification succeeded once (older rows without `last_verified_at`: `enabled`). */
export function everVerified(row: Connection): boolean {
  return Boolean(row.last_verified_at) || row.enabled;
}

/** Say when a verification or an import ends (status transitions seen by this page). */
function useOutcomeAnnouncements(row: Connection | undefined, run: IngestionRun | null, spec: ItsmTypeSpec | undefined) {
  const { announce } = useServices();
  const previous = useRef<{ status?: string; runId?: string; runStatus?: string }>({});
  useEffect(() => {
    if (!row || !spec) return;
    const before = previous.current;
    const say = (message: string, tone: Tone) => announce(message, tone);
    if (before.status === "verifying" && row.status !== "verifying") {
      if (row.enabled) say(t("announce.verified", { name: spec.system }), "success");
      else if (row.last_verification_error || row.last_verification_error_code)
        say(t("announce.verifyFailed", { name: spec.system, sentence: codeSentence(row.last_verification_error_code, spec.system) }), "error");
    }
    if (run && before.runId === run.id && before.runStatus !== run.status) {
      const name = spec.system;
      if (run.status === "completed") say(t("announce.importCompleted", { name, count: run.records_processed }), "success");
      else if (run.status === "cancelled") say(t("announce.importCancelled", { name }), "info");
      else if (run.status === "failed") say(t("announce.importFailed", { name, sentence: codeSentence(run.error_code, name) }), "error");
    }
    previous.current = { status: row.status, runId: run?.id, runStatus: run?.status };
  }, [row, run, spec, announce]);
}

function Detail({ id, onTitle }: { id: string; onTitle: (title: string) => void }) {
  const { session } = useServices();
  const { row, run, lastFinished, loading, error, reload } = useConnection(id);
  // `editing`: the user opened the form on a verified connection; it stays until a verify succeeds.
  const [editing, setEditing] = useState(false);
  const [awaiting, setAwaiting] = useState(false);
  const spec = row ? ITSM_TYPES[row.type] : undefined;
  const title = row ? (tMaybe(`sources.${row.type}.title`) ?? row.name) : "";
  useOutcomeAnnouncements(row, run, spec);
  useEffect(() => {
    if (title) onTitle(title);
  }, [title, onTitle]);

  useEffect(() => {
    if (!awaiting || !row || row.status === "verifying") return;
    setAwaiting(false);
    if (row.enabled) setEditing(false);
  }, [awaiting, row]);

  if (!row) {
    if (loading) return <div className="skeleton-panel" aria-busy="true" />;
    const status = (error as { status?: number } | null)?.status;
    const notFound = status === 404 || status === 422;
    return (
      <div className="alert alert-error" role="alert">
        {notFound ? t("app.notFound") : describeError(error).message}{" "}
        {!notFound && (
          <button type="button" className="btn btn-secondary btn-small" onClick={reload}>
            {t("app.retry")}
          </button>
        )}
      </div>
    );
  }
  if (!spec) return <p className="alert">{t("errors.unsupported_type")}</p>;
  const configured = everVerified(row);
  const showForm = session.canChange && (editing || (!configured && row.status !== "syncing"));
  return (
    <>
      <header className="page-header detail-header">
        <SourceIcon type={row.type} size={48} />
        <div>
          <h1>{title}</h1>
          <p className="muted">{tMaybe(`sources.${row.type}.description`) ?? row.description}</p>
        </div>
      </header>
      {showForm ? (
        <CredentialsForm
          key={`form-${row.id}`}
          connection={row}
          spec={spec}
          editing={configured}
          onSubmitted={() => {
            setEditing(true);
            setAwaiting(true);
          }}
          // Only a connection that was verified once has a configuration to go back to.
          onCancel={configured ? () => setEditing(false) : undefined}
        />
      ) : (
        <ItsmConfiguration connection={row} run={run} lastFinished={lastFinished} spec={spec} onEdit={() => setEditing(true)} />
      )}
    </>
  );
}

export default function ConnectionSourceDetailPage() {
  const { id = "" } = useParams();
  const [title, setTitle] = useState("");
  usePageTitle(title ? `${title} · ${t("app.connectionSources")}` : t("app.connectionSources"));
  return (
    <>
      <nav aria-label={t("app.breadcrumb")} className="breadcrumb">
        <ol>
          <li>
            <Link to="/settings/connections/itsm">{t("app.connectionSources")}</Link>
          </li>
          <li>
            <Link to="/settings/connections/itsm">{t("tabs.itsm")}</Link>
          </li>
          <li aria-current="page">{title || "…"}</li>
        </ol>
      </nav>
      <Detail key={id} id={id} onTitle={setTitle} />
    </>
  );
}
