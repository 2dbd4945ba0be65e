/** The ITSM systems the console can connect, by connection type. */
import type { SourceKey } from "../../../constants/connectionSources";
import { jira } from "./jira";
import { servicenow } from "./servicenow";
import type { ItsmTypeSpec } from "./spec";

export type { FieldSpec, ItsmTypeSpec, ScopeOption } from "./spec";

export const ITSM_TYPES: Partial<Record<SourceKey, ItsmTypeSpec>> = {
  jira_itsm: jira,
  servicenow,
};

