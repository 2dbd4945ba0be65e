/** Settings → Connection Sources: ITSM and Knowledge lists as route-backed tabs. */
import { NavLink, Navigate, useParams } from "react-router-dom";
import { describeError } from "../api/problem";
import { SourceCard } from "../components/connection-sources/SourceCard";
import { CATEGORY_ORDER, PLACEHOLDER_SOURCES, isCategory, type Category } from "../constants/connectionSources";
import { useConnections } from "../hooks/useDataSources";
import { usePageTitle } from "../hooks/usePageTitle";
import { t } from "../i18n";

function Tabs({ current }: { current: Category }) {
  return (
    <nav className="tabs" aria-label={t("tabs.label")}>
      {(["itsm", "knowledge"] as const).map((category) => (
        <NavLink
          key={category}
          to={`/settings/connections/${category}`}
          className={({ isActive }) => `tab ${isActive ? "tab-active" : ""}`}
          aria-current={current === category ? "page" : undefined}
        >
          {t(`tabs.${category}`)}
        </NavLink>
      ))}
    </nav>
  );
}

function SourceList({ category }: { category: Category }) {
  const { rows, loading, error, reload } = useConnections(category);
  if (error && rows.length === 0) {
    return (
      <div className="alert alert-error" role="alert">
        {describeError(error).message || t("app.loadFailed")}{" "}
        <button type="button" className="btn btn-secondary btn-small" onClick={reload}>
          {t("app.retry")}
        </button>
      </div>
    );
  }
  if (loading && rows.length === 0) {
    return <div className="skeleton-grid" aria-busy="true" aria-live="polite" />;
  }
  const byType = new Map(rows.map((row) => [row.type as string, row]));
  return (
    <>
      {/* The cards' titles are h3: this keeps the heading order (h1, h2, h3) for screen readers. */}
      <h2 className="visually-hidden">{t(`tabs.${category}`)}</h2>
      <ul className="card-grid" aria-label={t(`tabs.${category}`)} data-testid={`${category}-list`}>
        {CATEGORY_ORDER[category]
          .filter((type) => byType.has(type) || PLACEHOLDER_SOURCES.has(type))
          .map((type) => (
            <SourceCard key={type} type={type} category={category} row={byType.get(type)} />
          ))}
      </ul>
    </>
  );
}

export default function ConnectionSourcesPage() {
  const { category } = useParams();
  usePageTitle(`${isCategory(category) ? t(`tabs.${category}`) : ""} · ${t("app.connectionSources")}`);
  if (!isCategory(category)) return <Navigate to="/settings/connections/itsm" replace />;
  return (
    <>
      <header className="page-header">
        <h1>{t("app.connectionSources")}</h1>
        <p className="muted">{t(`tabs.${category}Description`)}</p>
      </header>
      <Tabs current={category} />
      <SourceList category={category} />
    </>
  );
}
