/** ServiceNow credentials: instance URL, username, password (same form as Jira). */
import { z } from "zod";
import { t } from "../../../i18n";
import { CredentialsForm, type CredentialsFormProps, type FieldSpec } from "./CredentialsForm";
import { httpUrl } from "./validation";

const fields: readonly FieldSpec[] = [
  { name: "instance_url", label: "servicenow.form.instanceUrl", placeholder: "servicenow.form.instanceUrlPlaceholder", help: "servicenow.form.instanceUrlHelp", type: "url", autoComplete: "url" },
  { name: "username", label: "servicenow.form.username", placeholder: "servicenow.form.usernamePlaceholder", type: "text", autoComplete: "username" },
  { name: "password", label: "servicenow.form.password", placeholder: "servicenow.form.passwordPlaceholder", help: "servicenow.form.passwordHelp", type: "password", autoComplete: "off", secret: true },
];

const schema = z.object({
  instance_url: httpUrl(t("servicenow.form.instanceUrl")),
  username: z.string().trim().min(1, t("form.required", { field: t("servicenow.form.username") })),
  password: z.string().min(1, t("form.required", { field: t("servicenow.form.password") })),
});

export default function ServiceNowForm(props: CredentialsFormProps) {
  return (
    <CredentialsForm
      {...props}
      spec={{
        title: "servicenow.form.title",
        intro: "servicenow.form.intro",
        fields,
        schema,
        toPayload: (v) => ({
          settings: { instance_url: v.instance_url ?? "", username: v.username ?? "" },
          credentials: { username: v.username ?? "", password: v.password ?? "" },
        }),
      }}
    />
  );
}
