/**
 * A failure as people read it: a translated sentence for its stable code (DESIGN §9) and, as
 * detail, the service's own text. Credential codes ask for new credentials.
 */
import { t, tMaybe } from "../../i18n";

export const CREDENTIAL_ERROR_CODES: ReadonlySet<string> = new Set(["auth_failed", "forbidden"]);

export function isCredentialCode(code: string | null | undefined): boolean {
  return Boolean(code && CREDENTIAL_ERROR_CODES.has(code));
}

/** The sentence for `code` (naming the system), or a generic one for an unknown or missing code. */
export function codeSentence(code: string | null | undefined, system: string): string {
  return (code && tMaybe(`errorCodes.${code}`, { system })) || t("errorCodes.unknown");
}

/** The sentence, and the service's text below it when it says more. */
export function ErrorDetail({ code, detail, system }: { code: string | null | undefined; detail: string | null | undefined; system: string }) {
  const sentence = code ? codeSentence(code, system) : null;
  return (
    <>
      <span className="error-sentence" data-testid="error-sentence">{sentence ?? detail ?? t("errorCodes.unknown")}</span>
      {sentence && detail && (
        <span className="error-detail" data-testid="error-detail">
          {" "}
          {t("form.details", { detail })}
        </span>
      )}
    </>
  );
}
