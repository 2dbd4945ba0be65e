/**
 * Which tickets an import takes: everything, or a subset of the options the last verification
 * found (Jira projects, ServiceNow assignment groups). Stored in the connection's `config` under
 * the system's key; an empty list means everything.
 */
import { useId } from "react";
import { t } from "../../../i18n";
import type { ItsmTypeSpec, ScopeOption } from "../types";

export interface ScopeChoice {
  mode: "all" | "selected";
  ids: string[];
}

/** The scope stored in `config` (anything but a non-empty list of strings means "all"). */
export function storedScope(config: Record<string, unknown> | null | undefined, key: string): ScopeChoice {
  const raw = config?.[key];
  const ids = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === "string") : [];
  return ids.length ? { mode: "selected", ids } : { mode: "all", ids: [] };
}

export function sameScope(a: ScopeChoice, b: ScopeChoice): boolean {
  if (a.mode !== b.mode) return false;
  return a.mode === "all" || [...a.ids].sort().join("\n") === [...b.ids].sort().join("\n");
}

interface Props {
  spec: ItsmTypeSpec;
  options: ScopeOption[];
  value: ScopeChoice;
  onChange: (next: ScopeChoice) => void;
  disabled: boolean;
  error?: string | null;
  describedBy?: string | undefined;
}

export function ImportScope({ spec, options, value, onChange, disabled, error, describedBy }: Props) {
  const id = useId();
  const { scope } = spec;
  // Ids stored earlier that the last verification no longer lists stay visible (and removable).
  const known = new Set(options.map((o) => o.id));
  const all = [...options, ...value.ids.filter((x) => !known.has(x)).map((x) => ({ id: x, label: x }))];
  return (
    <fieldset className="scope" disabled={disabled} aria-describedby={[describedBy, error ? `${id}-error` : undefined].filter(Boolean).join(" ") || undefined} data-testid="import-scope">
      <legend>{t(scope.legend)}</legend>
      <label className="choice">
        <input type="radio" name={`${id}-mode`} checked={value.mode === "all"} onChange={() => onChange({ mode: "all", ids: [] })} />
        {t(scope.all)}
      </label>
      <label className="choice">
        <input
          type="radio"
          name={`${id}-mode`}
          checked={value.mode === "selected"}
          disabled={all.length === 0}
          onChange={() => onChange({ mode: "selected", ids: value.ids })}
        />
        {t(scope.selected)}
      </label>
      {all.length === 0 && <p className="muted small">{t(scope.none)}</p>}
      {value.mode === "selected" && (
        <ul className="scope-options">
          {all.map((option) => (
            <li key={option.id}>
              <label className="choice">
                <input
                  type="checkbox"
                  value={option.id}
                  checked={value.ids.includes(option.id)}
                  onChange={(e) =>
                    onChange({
                      mode: "selected",
                      ids: e.target.checked ? [...value.ids, option.id] : value.ids.filter((x) => x !== option.id),
                    })
                  }
                />
                {option.label}
              </label>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
