/** Source types, console order and the category of each card (seed: connectionSources.ts). */
import type { components } from "../api/schema";

export type DataSourceType = components["schemas"]["DataSourceType"];

export const SOURCES = {
  CONFLUENCE: "confluence",
  SHAREPOINT: "sharepoint",
  SERVICENOW: "servicenow",
  WEB_SEARCH: "websearch",
  JIRA: "jira",
  JIRA_ITSM: "jira_itsm",
  FRESHDESK: "freshdesk",
} as const;

/** A card type: a stored type, or a placeholder that has no row yet. */
export type SourceKey = DataSourceType | typeof SOURCES.FRESHDESK;
export type Category = "itsm" | "knowledge";

export const ITSM_SOURCES_ORDER: readonly SourceKey[] = ["servicenow", "jira_itsm", "freshdesk"];
export const KNOWLEDGE_SOURCES_ORDER: readonly SourceKey[] = [
  "confluence",
  "sharepoint",
  "servicenow",
  "websearch",
  "jira",
];
/** Cards shown without a stored row ("coming soon"). */
export const PLACEHOLDER_SOURCES: ReadonlySet<SourceKey> = new Set(["freshdesk"]);

export const CATEGORY_ORDER: Record<Category, readonly SourceKey[]> = {
  itsm: ITSM_SOURCES_ORDER,
  knowledge: KNOWLEDGE_SOURCES_ORDER,
};

export function isCategory(value: string | undefined): value is Category {
  return value === "itsm" || value === "knowledge";
}

/** The i18n key prefix of a card: ServiceNow has distinct texts in the two lists. */
export function sourceTextKey(type: SourceKey, category: Category): string {
  return type === "servicenow" && category === "knowledge" ? "servicenow_kb" : type;
}
