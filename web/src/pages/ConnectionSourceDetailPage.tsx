/** `/settings/connections/itsm/:id`: the type's form until verified, then its configuration. */
import { useEffect, useState, type ComponentType } from "react";
import { Link, useParams } from "react-router-dom";
import { describeError } from "../api/problem";
import JiraItsmConfiguration from "../components/connection-sources/connection-details/JiraItsmConfiguration";
import ServiceNowItsmConfiguration from "../components/connection-sources/connection-details/ServiceNowItsmConfiguration";
import type { ItsmConfigurationProps } from "../components/connection-sources/connection-details/ItsmConfiguration";
import type { CredentialsFormProps } from "../components/connection-sources/connection-forms/CredentialsForm";
import { JiraForm, ServiceNowForm } from "../components/connection-sources/connection-forms";
import { SourceIcon } from "../components/connection-sources/SourceIcon";
import { SOURCES, type SourceKey } from "../constants/connectionSources";
import { useConnection } from "../hooks/useDataSources";
import { t, tMaybe } from "../i18n";

export const FORM_REGISTRY: Partial<Record<SourceKey, ComponentType<CredentialsFormProps>>> = {
  [SOURCES.SERVICENOW]: ServiceNowForm,
  [SOURCES.JIRA_ITSM]: JiraForm,
};

export const ITSM_CONFIGURATION_REGISTRY: Partial<Record<SourceKey, ComponentType<ItsmConfigurationProps>>> = {
  [SOURCES.SERVICENOW]: ServiceNowItsmConfiguration,
  [SOURCES.JIRA_ITSM]: JiraItsmConfiguration,
};

function Detail({ id }: { id: string }) {
  const { row, run, loading, error, reload } = useConnection(id);
  // `editing`: the form was opened (or submitted) by the user and stays until a verify succeeds.
  const [editing, setEditing] = useState(false);
  const [awaiting, setAwaiting] = useState(false);

  useEffect(() => {
    if (!awaiting || !row || row.status === "verifying") return;
    setAwaiting(false);
    if (row.enabled) setEditing(false);
  }, [awaiting, row]);

  if (!row) {
    if (loading) return <div className="skeleton-panel" aria-busy="true" />;
    const notFound = (error as { status?: number } | null)?.status === 404 || (error as { status?: number } | null)?.status === 422;
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
  const Form = FORM_REGISTRY[row.type];
  const Configuration = ITSM_CONFIGURATION_REGISTRY[row.type];
  if (!Form || !Configuration) return <p className="alert">{t("errors.unsupported_type")}</p>;
  const neverVerified = !row.enabled && !row.last_verification_error && row.status !== "syncing";
  const showForm = editing || neverVerified;
  const title = tMaybe(`sources.${row.type}.title`) ?? row.name;
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
        <Form
          key={`form-${row.id}`}
          connection={row}
          onSubmitted={() => {
            setEditing(true);
            setAwaiting(true);
          }}
          onCancel={row.enabled || row.last_verification_at ? () => setEditing(false) : undefined}
        />
      ) : (
        <Configuration connection={row} run={run} onEdit={() => setEditing(true)} />
      )}
    </>
  );
}

export default function ConnectionSourceDetailPage() {
  const { id = "" } = useParams();
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/settings/connections/itsm">{t("app.back", { category: t("tabs.itsm") })}</Link>
      </nav>
      <Detail key={id} id={id} />
    </>
  );
}
