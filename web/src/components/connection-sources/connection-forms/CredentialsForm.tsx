/**
 * The shared verify form: labelled fields with help and error text, client-side validation (zod),
 * the API's problem+json errors shown safely. Secret fields are password inputs that are emptied
 * as soon as the request is built, so a token is never kept in state nor shown back.
 */
import { useId, useRef, useState, type FormEvent } from "react";
import type { z } from "zod";
import type { Connection } from "../../../api/client";
import { describeError } from "../../../api/problem";
import { useConnectionActions } from "../../../hooks/useConnectionActions";
import { t, type MessageKey } from "../../../i18n";

export interface FieldSpec {
  name: string;
  label: MessageKey;
  placeholder: MessageKey;
  help?: MessageKey;
  type: "url" | "email" | "text" | "password";
  autoComplete: string;
  secret?: boolean;
}

export interface CredentialsFormProps {
  connection: Connection;
  onSubmitted: () => void;
  onCancel?: (() => void) | undefined;
}

interface Spec {
  title: MessageKey;
  intro: MessageKey;
  fields: readonly FieldSpec[];
  schema: z.ZodType<Record<string, string>>;
  toPayload: (values: Record<string, string>) => {
    settings: Record<string, string>;
    credentials: Record<string, string>;
  };
}

export function CredentialsForm({ connection, onSubmitted, onCancel, spec }: CredentialsFormProps & { spec: Spec }) {
  const formId = useId();
  const { verify } = useConnectionActions(connection.id);
  const initial = Object.fromEntries(
    spec.fields.map((f) => [f.name, f.secret ? "" : String(connection.settings?.[f.name] ?? "")]),
  );
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const refs = useRef<Record<string, HTMLInputElement | null>>({});
  const verifying = connection.status === "verifying";
  const busy = submitting || verifying;
  const lastError =
    !busy && !connection.enabled && connection.status === "idle"
      ? connection.last_verification_error
      : null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setFormError(null);
    const parsed = spec.schema.safeParse(values);
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        const name = String(issue.path[0]);
        errors[name] ??= issue.message;
      }
      setFieldErrors(errors);
      setFormError(t("form.fixErrors"));
      const first = spec.fields.find((f) => errors[f.name]);
      if (first) refs.current[first.name]?.focus();
      return;
    }
    setFieldErrors({});
    const payload = spec.toPayload(parsed.data);
    const secrets = spec.fields.filter((f) => f.secret).map((f) => parsed.data[f.name] ?? "");
    // Forget the secret now: it lives only in the request that is about to leave.
    setValues((v) => ({ ...v, ...Object.fromEntries(spec.fields.filter((f) => f.secret).map((f) => [f.name, ""])) }));
    setSubmitting(true);
    try {
      await verify(payload.settings, payload.credentials);
      onSubmitted();
    } catch (error) {
      const shown = describeError(error, secrets);
      setFormError(shown.message);
      setFieldErrors(shown.fields);
    } finally {
      setSubmitting(false);
    }
  }

  const headingId = `${formId}-title`;
  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId} className="panel-title">{t(spec.title)}</h2>
      <p className="panel-intro">{t(spec.intro)}</p>
      <form noValidate onSubmit={submit} aria-describedby={formError ? `${formId}-error` : undefined}>
        {formError && (
          <div id={`${formId}-error`} className="alert alert-error" role="alert">
            {formError}
          </div>
        )}
        {lastError && !formError && (
          <div className="alert alert-error" role="alert" data-testid="verification-error">
            {t("form.verifyFailed", { error: lastError })}
          </div>
        )}
        {spec.fields.map((field) => {
          const id = `${formId}-${field.name}`;
          const error = fieldErrors[field.name];
          const describedBy = [field.help && `${id}-help`, error && `${id}-error`].filter(Boolean).join(" ");
          return (
            <div className={`field ${error ? "field-invalid" : ""}`} key={field.name}>
              <label htmlFor={id}>
                {t(field.label)} <span className="required" aria-hidden="true">*</span>
              </label>
              <input
                id={id}
                name={field.name}
                ref={(el) => {
                  refs.current[field.name] = el;
                }}
                type={field.type}
                value={values[field.name] ?? ""}
                placeholder={t(field.placeholder)}
                autoComplete={field.autoComplete}
                spellCheck={false}
                required
                aria-required="true"
                aria-invalid={error ? true : undefined}
                aria-describedby={describedBy || undefined}
                disabled={busy}
                onChange={(e) => setValues((v) => ({ ...v, [field.name]: e.target.value }))}
              />
              {field.help && (
                <p id={`${id}-help`} className="field-help">
                  {t(field.help)}
                </p>
              )}
              {error && (
                <p id={`${id}-error`} className="field-error">
                  {error}
                </p>
              )}
            </div>
          );
        })}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy} aria-busy={busy || undefined}>
            {busy ? t("form.verifying") : t("form.verify")}
          </button>
          {onCancel && (
            <button type="button" className="btn btn-ghost" onClick={onCancel} disabled={submitting}>
              {t("form.cancelEdit")}
            </button>
          )}
          <span role="status" className="form-status">
            {verifying ? t("form.waiting", { name: connection.name }) : ""}
          </span>
        </div>
      </form>
    </section>
  );
}
