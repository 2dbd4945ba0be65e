/** ServiceNow: instance URL, user name, password (Basic auth); scope = assignment group ids. */
import { z } from "zod";
import { t } from "../../../i18n";
import { httpUrl } from "../connection-forms/validation";
import { optionList, type ItsmTypeSpec } from "./spec";

export const servicenow: ItsmTypeSpec = {
  system: "ServiceNow",
  form: {
    title: "servicenow.form.title",
    editTitle: "servicenow.form.editTitle",
    intro: "servicenow.form.intro",
    devHint: "servicenow.form.devHint",
    devUrl: "http://127.0.0.1:8005",
    fields: [
      { name: "instance_url", label: "servicenow.form.instanceUrl", placeholder: "servicenow.form.instanceUrlPlaceholder", help: "servicenow.form.instanceUrlHelp", type: "url", autoComplete: "url" },
      { name: "username", label: "servicenow.form.username", placeholder: "servicenow.form.usernamePlaceholder", type: "text", autoComplete: "username" },
      { name: "password", label: "servicenow.form.password", placeholder: "servicenow.form.passwordPlaceholder", help: "servicenow.form.passwordHelp", type: "password", autoComplete: "off", secret: true },
    ],
    schema: z.object({
      instance_url: httpUrl(t("servicenow.form.instanceUrl")),
      username: z.string().trim().min(1, t("form.required", { field: t("servicenow.form.username") })),
      password: z.string().min(1, t("form.required", { field: t("servicenow.form.password") })),
    }),
    toPayload: (v) => ({
      settings: { instance_url: v.instance_url ?? "", username: v.username ?? "" },
      credentials: { username: v.username ?? "", password: v.password ?? "" },
    }),
  },
  configuration: { title: "config.titles.servicenowItsm", siteField: "instance_url", accountField: "username" },
  scope: {
    configKey: "assignment_group_ids",
    legend: "servicenow.scope.legend",
    all: "servicenow.scope.all",
    selected: "servicenow.scope.selected",
    none: "servicenow.scope.none",
    pickOne: "servicenow.scope.pickOne",
    options: (latest) =>
      optionList(latest, "assignment_groups")
        .filter((g) => typeof g.id === "string")
        .map((g) => ({ id: String(g.id), label: typeof g.name === "string" ? g.name : String(g.id) })),
  },
};
