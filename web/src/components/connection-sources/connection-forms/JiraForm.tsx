/** Jira Cloud credentials: site URL, account email, API token (seed: JiraForm). */
import { z } from "zod";
import { t } from "../../../i18n";
import { CredentialsForm, type CredentialsFormProps, type FieldSpec } from "./CredentialsForm";
import { httpUrl } from "./validation";

const fields: readonly FieldSpec[] = [
  { name: "base_url", label: "jira.form.baseUrl", placeholder: "jira.form.baseUrlPlaceholder", help: "jira.form.baseUrlHelp", type: "url", autoComplete: "url" },
  { name: "email", label: "jira.form.email", placeholder: "jira.form.emailPlaceholder", type: "email", autoComplete: "email" },
  { name: "api_token", label: "jira.form.apiToken", placeholder: "jira.form.apiTokenPlaceholder", help: "jira.form.apiTokenHelp", type: "password", autoComplete: "off", secret: true },
];

export const jiraSchema = z.object({
  base_url: httpUrl(t("jira.form.baseUrl")),
  email: z.string().trim().min(1, t("form.required", { field: t("jira.form.email") })).pipe(z.email(t("form.invalidEmail"))),
  api_token: z.string().trim().min(1, t("form.required", { field: t("jira.form.apiToken") })),
});

export default function JiraForm(props: CredentialsFormProps) {
  return (
    <CredentialsForm
      {...props}
      spec={{
        title: "jira.form.title",
        intro: "jira.form.intro",
        fields,
        schema: jiraSchema,
        toPayload: (v) => ({
          settings: { base_url: v.base_url ?? "", email: v.email ?? "" },
          credentials: { email: v.email ?? "", api_token: v.api_token ?? "" },
        }),
      }}
    />
  );
}
