/** Simple drawn icons per source (original shapes, not vendor logos); decorative: aria-hidden. */
import type { SourceKey } from "../../constants/connectionSources";

const COLORS: Record<SourceKey, string> = {
  jira_itsm: "#2563eb",
  jira: "#1d4ed8",
  servicenow: "#059669",
  freshdesk: "#16a34a",
  confluence: "#0ea5e9",
  sharepoint: "#0f766e",
  websearch: "#7c3aed",
};

function Glyph({ type }: { type: SourceKey }) {
  switch (type) {
    case "jira_itsm":
    case "jira":
      // A ticket with a notch and two chevrons: "issues flowing in".
      return (
        <>
          <path d="M9 12h22a2 2 0 0 1 2 2v3a3 3 0 0 0 0 6v3a2 2 0 0 1-2 2H9a2 2 0 0 1-2-2v-3a3 3 0 0 0 0-6v-3a2 2 0 0 1 2-2z" fill="#fff" />
          <path d="M14 17l3 3-3 3M20 17l3 3-3 3" stroke={COLORS[type]} strokeWidth="2.2" fill="none" strokeLinecap="round" strokeLinejoin="round" />
        </>
      );
    case "servicenow":
      return <circle cx="20" cy="20" r="8" fill="none" stroke="#fff" strokeWidth="4" />;
    case "freshdesk":
      return (
        <path d="M12 22v-3a8 8 0 0 1 16 0v3M12 22h3v6h-3zM25 22h3v6h-3z" stroke="#fff" strokeWidth="2.4" fill="none" strokeLinejoin="round" />
      );
    case "confluence":
      return <path d="M11 25c5-6 13-6 18 0M11 15c5 6 13 6 18 0" stroke="#fff" strokeWidth="3" fill="none" strokeLinecap="round" />;
    case "sharepoint":
      return (
        <>
          <circle cx="17" cy="17" r="6" fill="#fff" />
          <circle cx="24" cy="24" r="5" fill="#fff" opacity="0.75" />
        </>
      );
    case "websearch":
      return (
        <>
          <circle cx="18" cy="18" r="7" stroke="#fff" strokeWidth="2.6" fill="none" />
          <path d="M23 23l6 6" stroke="#fff" strokeWidth="2.6" strokeLinecap="round" />
        </>
      );
  }
}

export function SourceIcon({ type, size = 40 }: { type: SourceKey; size?: number }) {
  return (
    <svg
      className="source-icon"
      width={size}
      height={size}
      viewBox="0 0 40 40"
      aria-hidden="true"
      focusable="false"
      data-icon={type}
    >
      <rect width="40" height="40" rx="9" fill={COLORS[type]} />
      <Glyph type={type} />
    </svg>
  );
}
