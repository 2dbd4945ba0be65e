/** One card of a source list: a link to its detail page, or a "coming soon" placeholder. */
import { Link } from "react-router-dom";
import type { Connection } from "../../api/client";
import { sourceTextKey, type Category, type SourceKey } from "../../constants/connectionSources";
import { tMaybe, t } from "../../i18n";
import { SourceIcon } from "./SourceIcon";
import { StatusBadge } from "./StatusBadge";

interface Props {
  type: SourceKey;
  category: Category;
  row?: Connection;
}

export function SourceCard({ type, category, row }: Props) {
  const key = sourceTextKey(type, category);
  const title = tMaybe(`sources.${key}.title`) ?? row?.name ?? type;
  const description = tMaybe(`sources.${key}.description`) ?? row?.description ?? "";
  const body = (
    <>
      <div className="card-head">
        <SourceIcon type={type} />
        <div className="card-titles">
          <h3 className="card-title">{title}</h3>
          {row ? (
            <StatusBadge row={row} />
          ) : (
            <span className="badge badge-soon">{t("card.comingSoon")}</span>
          )}
        </div>
      </div>
      <p className="card-description">{description}</p>
    </>
  );
  if (row && category === "itsm") {
    return (
      <li className="source-card-item" data-source={type}>
        {/* The link's name is its visible text; CSS stretches it over the whole card. */}
        <div className="source-card source-card-link">
          {body}
          <Link className="card-cta stretched-link" to={`/settings/connections/itsm/${row.id}`}>
            {t("card.open", { name: title })}
            <span aria-hidden="true"> →</span>
          </Link>
        </div>
      </li>
    );
  }
  return (
    <li className="source-card-item" data-source={type}>
      <div className={`source-card ${row ? "" : "source-card-disabled"}`} aria-disabled={!row || undefined}>
        {body}
        {row && <span className="card-note">{t("card.managedElsewhere")}</span>}
      </div>
    </li>
  );
}
