/**
 * RFC 9457 problem+json errors turned into text that is safe to show: a known `code` maps to our
 * own message; otherwise the API's `detail`. Any secret the user just typed is cut out, whatever
 * the server sent, so a token can never be echoed onto the page.
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
  /** Field name (last element of `loc`) → message, for validation errors. */
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

/** What to show for an error thrown or returned by a request. */
export function describeError(error: unknown, secrets: readonly string[] = []): DisplayError {
  if (error instanceof SignInRequired) return { message: t("app.signInRequired"), fields: {} };
  if (error instanceof TypeError) return { message: t("errors.network"), fields: {} };
  if (!isProblem(error)) return { message: t("errors.unknown"), fields: {} };
  const code = typeof error.code === "string" ? error.code : undefined;
  const known = code ? tMaybe(`errors.${code}`) : undefined;
  const fields: Record<string, string> = {};
  for (const item of Array.isArray(error.errors) ? error.errors : []) {
    const name = item.loc?.[item.loc.length - 1];
    if (typeof name === "string" && typeof item.msg === "string") {
      fields[name] = redact(item.msg, secrets);
    }
  }
  // For URL policy and sync-service errors the API's detail names the actual reason.
  const detail = typeof error.detail === "string" ? error.detail : undefined;
  const message =
    code === "validation_error" || !detail ? (known ?? detail ?? t("errors.unknown")) : detail;
  return { message: redact(message, secrets), fields, code };
}
