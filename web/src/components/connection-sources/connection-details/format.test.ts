import { formatDateTime } from "./format";

test("a recent time shows seconds; an older one does not", () => {
  const at = "2026-01-20T10:00:07Z";
  const now = Date.parse(at);
  const recent = formatDateTime(at, now + 5_000);
  const old = formatDateTime(at, now + 3 * 3600_000);
  expect(recent).toMatch(/:07/);
  expect(old).not.toMatch(/:07/);
  expect(formatDateTime(null)).toBe("");
});
