/** A small typed translator over locales/en/connections.json (keys are checked at compile time). */
import en from "../locales/en/connections.json";

type Leaves<T, P extends string = ""> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : Leaves<T[K], `${P}${K}.`>;
}[keyof T & string];

export type MessageKey = Leaves<typeof en>;
export type Vars = Record<string, string | number>;

function lookup(key: string): string | undefined {
  let node: unknown = en;
  for (const part of key.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === "string" ? node : undefined;
}

/** Translate `key`, replacing `{{name}}` placeholders with `vars`. */
export function t(key: MessageKey, vars: Vars = {}): string {
  const template = lookup(key) ?? key;
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(vars[name] ?? ""));
}

/** Translate a key computed at run time, or return undefined when it does not exist. */
export function tMaybe(key: string, vars: Vars = {}): string | undefined {
  return lookup(key) === undefined ? undefined : t(key as MessageKey, vars);
}
