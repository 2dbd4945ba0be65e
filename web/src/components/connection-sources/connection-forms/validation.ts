/** Shared field rules. */
import { z } from "zod";
import { t } from "../../../i18n";

/** A required absolute http(s) URL; the API decides whether plain http is allowed (dev hosts). */
export function httpUrl(label: string) {
  return z
    .string()
    .trim()
    .min(1, t("form.required", { field: label }))
    .refine((value) => {
      try {
        const url = new URL(value);
        return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "";
      } catch {
        return false;
      }
    }, t("form.invalidUrl"));
}
