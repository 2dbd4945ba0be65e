/** Jira Cloud: site URL, account email, API token; scope = project keys. */
import { z } from "zod";
import { t } from "../../../i18n";
import { httpUrl } from "../connection-forms/validation";
import { optionList, type ItsmTypeSpec } from "./spec";

export const jira: ItsmTypeSpec = {
  system: "Jira",
  form: {
    title: "jira.form.title",
    editTitle: "jira.form.editTitle",
    intro: "jira.form.intro",
    devHint: "jira.form.devHint",
    devUrl: "http://127.0.0.1:8004",
    fields: [
      { name: "base_url", label: "jira.form.baseUrl", placeholder: "jira.form.baseUrlPlaceholder", help: "jira.form.baseUrlHelp", type: "url", autoComplete: "url" },
      { name: "email", label: "jira.form.email", placeholder: "jira.form.emailPlaceholder", type: "email", autoComplete: "email" },
      { name: "api_token", label: "jira.form.apiToken", placeholder: "jira.form.apiTokenPlaceholder", help: "jira.form.apiTokenHelp", type: "password", autoComplete: "off", secret: true },
    ],
    schema: z.object({
      base_url: httpUrl(t("jira.form.baseUrl")),
      email: z.string().trim().min(1, t("form.required", { field: t("jira.form.email") })).pipe(z.email(t("form.invalidEmail"))),
      api_token: z.string().trim().min(1, t("form.required", { field: t("jira.form.apiToken") })),
    }),
    toPayload: (v) => ({
      settings: { base_url: v.base_url ?? "", email: v.email ?? "" },
      credentials: { email: v.email ?? "", api_token: v.api_token ?? "" },
    }),
  },
  configuration: { title: "config.titles.jiraItsm", siteField: "base_url", accountField: "email" },
  scope: {
    configKey: "project_keys",
    legend: "jira.scope.legend",
    all: "jira.scope.all",
    selected: "jira.scope.selected",
    none: "jira.scope.none",
    pickOne: "jira.scope.pickOne",
    options: (latest) =>
      optionList(latest, "projects")
        .filter((p) => typeof p.key === "string")
        .map((p) => ({ id: String(p.key), label: p.name ? `${String(p.name)} (${String(p.key)})` : String(p.key) })),
  },
};
