/**
 * RFC 9457 problem+json errors turned into text that is safe to show: a known `code` maps to our
 * own message; otherwise the API's `detail`. Validation errors (`errors[].loc`) land on the form's
 * fields with human messages. Any secret the user just typed is cut out, whatever the server sent,
 * so a token can never be echoed onto the page.
 */
import { t, tMaybe } from "../i18n";
import { SignInRequired } from "./auth";

export interface Problem {
  status?: number;
  code?: string;
  title?: string;
  detail?: string;
  errors?: { loc?: (string | number)[]; msg?: string; type?: string }[];
}

export interface DisplayError {
  message: string;
  /** Field name (the last element of `loc`) → a human message, for validation errors. */
  fields: Record<string, string>;
  code?: string;
}

function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null;
}

/** Remove every occurrence of each secret (of a meaningful length) from `text`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  return secrets
    .filter((s) => s.length >= 4)
    .reduce((acc, secret) => acc.split(secret).join("•••"), text);
}

/** "Value error, the URL must use https" → "The URL must use https." */
function sentence(raw: string): string {
  const text = raw.replace(/^(value|assertion) error,\s*/i, "").trim();
  if (!text) return text;
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** A pydantic error type and message, for a person, naming the field by its label. */
export function humanFieldMessage(type: string | undefined, msg: string, label: string): string {
  if (type === "missing") return t("fieldErrors.missing", { field: label });
  if (type?.includes("too_long")) return t("fieldErrors.too_long", { field: label });
  if (type?.startsWith("url_")) return t("fieldErrors.url", { field: label });
  if (type === "unsafe_url") {
    const reason = sentence(msg).replace(/\.$/, "");
    return t("fieldErrors.unsafe_url", { message: reason.charAt(0).toLowerCase() + reason.slice(1) });
  }
  return sentence(msg);
}

/** What to show for an error thrown or returned by a request; `labels` names the form's fields. */
export function describeError(
  error: unknown,
  secrets: readonly string[] = [],
  labels: Readonly<Record<string, string>> = {},
): DisplayError {
  if (error instanceof SignInRequired) return { message: t("app.signInRequired"), fields: {} };
  if (error instanceof TypeError) return { message: t("errors.network"), fields: {} };
  if (!isProblem(error)) return { message: t("errors.unknown"), fields: {} };
  const code = typeof error.code === "string" ? error.code : undefined;
  const known = code ? tMaybe(`errors.${code}`) : undefined;
  const detail = typeof error.detail === "string" ? error.detail : undefined;
  const fields: Record<string, string> = {};
  const items = Array.isArray(error.errors) ? [...error.errors] : [];
  // An unsafe URL names its field in the detail ("base_url: the URL must use https").
  const named = code === "unsafe_url" && detail ? /^(\w+):\s*(.+)$/.exec(detail) : null;
  const [, namedField, namedReason] = named ?? [];
  if (namedField && namedReason && items.length === 0) {
    items.push({ loc: [namedField], msg: namedReason, type: "unsafe_url" });
  }
  for (const item of items) {
    const name = item.loc?.[item.loc.length - 1];
    if (typeof name === "string" && typeof item.msg === "string") {
      const type = code === "unsafe_url" ? "unsafe_url" : item.type;
      fields[name] ??= redact(humanFieldMessage(type, item.msg, labels[name] ?? name), secrets);
    }
  }
  let message: string;
  if (Object.keys(fields).length > 0 && Object.keys(fields).every((name) => name in labels)) {
    // Every problem sits on a field the user can see: the form's summary says so.
    message = t("form.keptValues");
  } else if (code === "validation_error" || !detail) {
    const unplaced = Object.entries(fields).filter(([name]) => !(name in labels));
    message = unplaced.length
      ? unplaced.map(([name, text]) => t("form.serverInvalid", { field: name, message: text })).join(" ")
      : (known ?? detail ?? t("errors.unknown"));
  } else {
    // For URL policy and sync-service errors the API's detail names the actual reason.
    message = detail;
  }
  return { message: redact(message, secrets), fields, code };
}
