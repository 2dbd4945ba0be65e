/** Dates for people: the browser's locale; seconds while the moment is recent (under an hour). */
const RECENT_MS = 60 * 60 * 1000;

export function formatDateTime(value: string | null | undefined, now: number = Date.now()): string {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const recent = Math.abs(now - date.getTime()) < RECENT_MS;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: recent ? "medium" : "short" });
}
