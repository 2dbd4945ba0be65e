/**
 * What differs between ITSM systems, as data: the form's fields and payload, the configuration's
 * site/account fields, and the import scope (which verification options, which `config` key).
 * Every system goes through the same CredentialsForm and ItsmConfiguration.
 */
import type { z } from "zod";
import type { MessageKey } from "../../../i18n";

export interface FieldSpec {
  name: string;
  label: MessageKey;
  placeholder: MessageKey;
  help?: MessageKey;
  type: "url" | "email" | "text" | "password";
  autoComplete: string;
  secret?: boolean;
}

export interface ScopeOption {
  id: string;
  label: string;
}

export interface ItsmTypeSpec {
  /** The system's name in sentences ("Jira", never "Jira ITSM"). */
  system: string;
  form: {
    title: MessageKey;
    editTitle: MessageKey;
    intro: MessageKey;
    devHint: MessageKey;
    devUrl: string;
    fields: readonly FieldSpec[];
    schema: z.ZodType<Record<string, string>>;
    toPayload: (values: Record<string, string>) => {
      settings: Record<string, string>;
      credentials: Record<string, string>;
    };
  };
  configuration: {
    title: MessageKey;
    siteField: string;
    accountField: string;
  };
  scope: {
    /** The key in the connection's `config` (an empty or missing list: everything). */
    configKey: string;
    legend: MessageKey;
    all: MessageKey;
    selected: MessageKey;
    none: MessageKey;
    pickOne: MessageKey;
    /** The choices found by the last verification (`latest_options`, an object or an array). */
    options: (latestOptions: unknown) => ScopeOption[];
  };
}

/** `latest_options[key]` when it is an object, the array itself when it is one. */
export function optionList(latestOptions: unknown, key: string): Record<string, unknown>[] {
  const list = Array.isArray(latestOptions)
    ? latestOptions
    : latestOptions && typeof latestOptions === "object"
      ? (latestOptions as Record<string, unknown>)[key]
      : undefined;
  return Array.isArray(list) ? list.filter((item): item is Record<string, unknown> => typeof item === "object" && item !== null) : [];
}
