/**
 * The one verify form of every ITSM system, driven by the system's field description
 * (`types/`): labelled fields with help and error text, client-side validation (zod), and the
 * API's problem+json errors placed on their fields. What the user typed stays after an error
 * (the secret too, so a 422 never costs them the token); a secret is emptied once a verification
 * was accepted, and any text from the server is redacted of it before it is shown. Secret inputs
 * are uncontrolled: React would otherwise mirror their value into the `value` attribute (the DOM).
 */
import { useEffect, useId, useRef, useState, type ChangeEvent, type FormEvent } from "react";
import type { Connection } from "../../../api/client";
import { describeError } from "../../../api/problem";
import { useConnectionActions } from "../../../hooks/useConnectionActions";
import { t } from "../../../i18n";
import { ErrorDetail } from "../errorText";
import type { ItsmTypeSpec } from "../types";

/** After this long in `verifying`, the form says it is still waiting (and Verify stays available). */
export const STILL_WAITING_MS = 5_000;

export interface CredentialsFormProps {
  connection: Connection;
  spec: ItsmTypeSpec;
  /** The connection was verified before: the form edits it ("Edit Jira connection"). */
  editing: boolean;
  onSubmitted: () => void;
  onCancel?: (() => void) | undefined;
}

export function CredentialsForm({ connection, spec, editing, onSubmitted, onCancel }: CredentialsFormProps) {
  const formId = useId();
  const { verify } = useConnectionActions(connection.id);
  const fields = spec.form.fields;
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.filter((f) => !f.secret).map((f) => [f.name, String(connection.settings?.[f.name] ?? "")])),
  );
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [stillWaiting, setStillWaiting] = useState(false);
  const refs = useRef<Record<string, HTMLInputElement | null>>({});
  const verifying = connection.status === "verifying";
  const lastError =
    !submitting && !verifying && !connection.enabled && connection.status === "idle"
      ? (connection.last_verification_error ?? (connection.last_verification_error_code ? "" : null))
      : null;

  useEffect(() => {
    setStillWaiting(false);
    if (!verifying) return;
    const timer = setTimeout(() => setStillWaiting(true), STILL_WAITING_MS);
    return () => clearTimeout(timer);
  }, [verifying]);

  // The first invalid field gets focus once the inputs are enabled again (after the request).
  const [focusField, setFocusField] = useState<string | null>(null);
  useEffect(() => {
    if (submitting || !focusField) return;
    refs.current[focusField]?.focus();
    setFocusField(null);
  }, [submitting, focusField]);

  function focusFirst(errors: Record<string, string>) {
    setFocusField(fields.find((f) => errors[f.name])?.name ?? null);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setFormError(null);
    const secretValues = Object.fromEntries(
      fields.filter((f) => f.secret).map((f) => [f.name, refs.current[f.name]?.value ?? ""]),
    );
    const parsed = spec.form.schema.safeParse({ ...values, ...secretValues });
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        const name = String(issue.path[0]);
        errors[name] ??= issue.message;
      }
      setFieldErrors(errors);
      setFormError(t("form.fixErrors"));
      focusFirst(errors);
      return;
    }
    setFieldErrors({});
    const payload = spec.form.toPayload(parsed.data);
    const secretFields = fields.filter((f) => f.secret);
    const secrets = secretFields.map((f) => parsed.data[f.name] ?? "");
    setSubmitting(true);
    try {
      await verify(payload.settings, payload.credentials);
      // Accepted: the secret went to the sync service; the page need not keep it.
      for (const f of secretFields) {
        const input = refs.current[f.name];
        if (input) input.value = "";
      }
      onSubmitted();
    } catch (error) {
      const labels = Object.fromEntries(fields.map((f) => [f.name, t(f.label)]));
      const shown = describeError(error, secrets, labels);
      setFormError(shown.message);
      setFieldErrors(shown.fields);
      focusFirst(shown.fields);
    } finally {
      setSubmitting(false);
    }
  }

  const headingId = `${formId}-title`;
  const statusText = verifying
    ? stillWaiting
      ? t("form.stillWaiting", { name: spec.system })
      : t("form.waiting", { name: spec.system })
    : "";
  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId} className="panel-title">{t(editing ? spec.form.editTitle : spec.form.title)}</h2>
      <p className="panel-intro">{t(spec.form.intro)}</p>
      {import.meta.env.DEV && <p className="dev-hint">{t(spec.form.devHint, { url: spec.form.devUrl })}</p>}
      <form noValidate onSubmit={submit} aria-describedby={formError ? `${formId}-error` : undefined}>
        {formError && (
          <div id={`${formId}-error`} className="alert alert-error" role="alert">
            {formError}
          </div>
        )}
        {lastError !== null && !formError && (
          <div className="alert alert-error" role="alert" data-testid="verification-error">
            {t("form.verifyFailedPrefix")}{" "}
            <ErrorDetail code={connection.last_verification_error_code} detail={lastError || null} system={spec.system} />
          </div>
        )}
        {fields.map((field) => {
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
                {...(field.secret
                  ? { defaultValue: "" }
                  : {
                      value: values[field.name] ?? "",
                      onChange: (e: ChangeEvent<HTMLInputElement>) =>
                        setValues((v) => ({ ...v, [field.name]: e.target.value })),
                    })}
                placeholder={t(field.placeholder)}
                autoComplete={field.autoComplete}
                spellCheck={false}
                required
                aria-required="true"
                aria-invalid={error ? true : undefined}
                aria-describedby={describedBy || undefined}
                disabled={submitting}
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
          <button type="submit" className="btn btn-primary" disabled={submitting} aria-busy={submitting || undefined}>
            {submitting ? t("form.verifying") : t("form.verify")}
          </button>
          {onCancel && (
            <button type="button" className="btn btn-ghost" onClick={onCancel} disabled={submitting}>
              {t("form.cancelEdit")}
            </button>
          )}
          <span role="status" className="form-status" data-testid="verify-status">
            {statusText}
          </span>
        </div>
      </form>
    </section>
  );
}
