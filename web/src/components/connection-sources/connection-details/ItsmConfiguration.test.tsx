import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { connection, devToken, fakeFetch, run, type Call } from "../../../test/fakeApi";
import { renderAt } from "../../../test/render";
import { formatDateTime } from "./format";

const verified = connection({
  id: "j1",
  enabled: true,
  settings: { base_url: "https://company.atlassian.net", email: "user@company.com" },
  last_verification_at: "2026-01-20T10:00:00Z",
  last_verified_at: "2026-01-20T10:00:00Z",
  latest_options: { projects: [{ key: "OPS", name: "Operations" }, { key: "HR", name: "People" }] },
});

function api(row = verified, latest: unknown = null, extra: Record<string, (c: Call) => { status?: number; body: unknown }> = {}) {
  return fakeFetch({
    ...devToken,
    "GET /api/data-sources/j1": () => ({ body: row }),
    "GET /api/data-sources/j1/ingestion-runs/latest": () => ({ body: latest }),
    "POST /api/data-sources/j1/sync-tickets": (c) => ({
      status: 202,
      body: run({ id: "new", status: "pending", created_at: "2026-01-21T00:00:00Z", time_range_days: (c.body as { time_range_days: number }).time_range_days }),
    }),
    "POST /api/data-sources/j1/cancel-ingestion": () => ({ status: 202, body: run({ status: "cancelled", updated_at: "2026-01-20T10:05:00Z" }) }),
    "PATCH /api/data-sources/j1": (c) => ({ body: { ...row, config: (c.body as { config: object }).config, version: row.version + 1 } }),
    ...extra,
  });
}

test("a verified connection shows the configuration with status, site, account; title and breadcrumb name it", async () => {
  renderAt("/settings/connections/itsm/j1", api().fetch);
  expect(await screen.findByRole("heading", { name: "Jira configuration" })).toBeInTheDocument();
  expect(screen.getByText("https://company.atlassian.net")).toBeInTheDocument();
  expect(screen.getAllByTestId("status-badge")[0]).toHaveTextContent("Connected");
  expect(screen.getByText("No tickets imported yet.")).toBeInTheDocument();
  const crumbs = screen.getByRole("navigation", { name: "Breadcrumb" });
  expect(await within(crumbs).findByText("Jira")).toHaveAttribute("aria-current", "page");
  await waitFor(() => expect(document.title).toBe("Jira · Connection Sources · Rita"));
});

test("Import tickets sends the chosen time range", async () => {
  const user = userEvent.setup();
  const fake = api();
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await user.click(await screen.findByLabelText("Last 60 days"));
  await user.click(screen.getByRole("button", { name: "Import tickets" }));
  expect(fake.calls.find((c) => c.path.endsWith("/sync-tickets"))?.body).toEqual({ time_range_days: 60 });
  expect(await screen.findByRole("button", { name: "Cancel" })).toBeInTheDocument();
  expect(screen.getByTestId("announcements")).toHaveTextContent("Import from Jira started.");
  // No scope change: nothing is patched.
  expect(fake.calls.some((c) => c.method === "PATCH")).toBe(false);
});

test("a selected project scope is saved in config before the import starts", async () => {
  const user = userEvent.setup();
  const fake = api();
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await user.click(await screen.findByLabelText("Selected projects"));
  await user.click(screen.getByRole("button", { name: "Import tickets" }));
  expect(await screen.findByText(/Choose at least one project/)).toBeInTheDocument();
  expect(fake.calls.some((c) => c.path.endsWith("/sync-tickets"))).toBe(false);
  await user.click(screen.getByLabelText("Operations (OPS)"));
  await user.click(screen.getByRole("button", { name: "Import tickets" }));
  const order = fake.calls.filter((c) => c.method !== "GET" && !c.path.startsWith("/api/dev")).map((c) => `${c.method} ${c.path}`);
  expect(order).toEqual(["PATCH /api/data-sources/j1", "POST /api/data-sources/j1/sync-tickets"]);
  expect(fake.calls.find((c) => c.method === "PATCH")?.body).toEqual({ config: { project_keys: ["OPS"] } });
});

test("a stored scope is shown; choosing All saves an empty list", async () => {
  const user = userEvent.setup();
  const fake = api({ ...verified, config: { project_keys: ["HR"] } });
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  expect(await screen.findByLabelText("People (HR)")).toBeChecked();
  expect(screen.getByLabelText("Operations (OPS)")).not.toBeChecked();
  await user.click(screen.getByLabelText("All projects"));
  await user.click(screen.getByRole("button", { name: "Save scope" }));
  expect(fake.calls.find((c) => c.method === "PATCH")?.body).toEqual({ config: { project_keys: [] } });
});

test("the progress bar follows run events; Last sync keeps the previous result until the new run ends", async () => {
  const previous = run({ id: "old", status: "completed", records_processed: 77, time_range_days: 60, created_at: "2026-01-19T00:00:00Z", completed_at: "2026-01-19T00:10:00Z" });
  const active = run({ id: "new", status: "running", time_range_days: 90, created_at: "2026-01-21T00:00:00Z" });
  const fake = api({ ...verified, status: "syncing", last_sync_status: "completed" }, active, {
    "GET /api/data-sources/j1/ingestion-runs": () => ({ body: { data: [active, previous], count: 2 } }),
  });
  const { store } = renderAt("/settings/connections/itsm/j1", fake.fetch);
  await screen.findByRole("heading", { name: "Jira configuration" });
  // After a reload, the range shown is the running import's, and the previous result stays.
  expect(screen.getByLabelText("Last 90 days")).toBeChecked();
  expect(await screen.findByTestId("last-sync-records")).toHaveTextContent("77");
  expect(screen.getByTestId("last-sync-range")).toHaveTextContent("Last 60 days");
  act(() => store.putRun("j1", { ...active, records_processed: 40, total_estimated: 160, updated_at: "2026-01-21T00:01:00Z" }));
  const bar = screen.getByRole("progressbar", { name: "Ticket import progress" });
  expect(bar).toHaveAttribute("aria-valuenow", "40");
  expect(bar).toHaveAttribute("aria-valuemax", "160");
  expect(screen.getByTestId("progress-text")).toHaveTextContent("40 of 160 tickets · 25%");
  expect(screen.getByTestId("last-sync-records")).toHaveTextContent("77");
  act(() => {
    store.putRun("j1", { ...active, status: "completed", records_processed: 160, total_estimated: 160, updated_at: "2026-01-21T00:02:00Z", completed_at: "2026-01-21T00:02:00Z" });
    store.putConnections([{ ...verified, version: 5, last_sync_status: "completed", last_sync_at: "2026-01-21T00:02:00Z" }]);
  });
  expect(screen.queryByRole("progressbar")).toBeNull();
  expect(screen.getByTestId("last-sync-status")).toHaveTextContent("Completed");
  expect(screen.getByTestId("last-sync-records")).toHaveTextContent("160");
  expect(screen.getByTestId("last-sync-range")).toHaveTextContent("Last 90 days");
  expect(screen.getByTestId("announcements")).toHaveTextContent("Import from Jira completed: 160 tickets.");
});

test("Cancel calls cancel-ingestion and shows the cancelled run", async () => {
  const user = userEvent.setup();
  const fake = api({ ...verified, status: "syncing" }, run({ connection_id: "j1" }));
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await user.click(await screen.findByRole("button", { name: "Cancel" }));
  expect(fake.calls.some((c) => c.method === "POST" && c.path.endsWith("/cancel-ingestion"))).toBe(true);
  expect(await screen.findByTestId("last-sync-status")).toHaveTextContent("Cancelled");
});

test("a failed run shows the sentence for its code with the service's text", async () => {
  const failedRun = run({ status: "failed", error_code: "rate_limited", error_message: "429 from Jira after 5 retries", completed_at: "2026-01-20T10:05:00Z" });
  renderAt("/settings/connections/itsm/j1", api({ ...verified, last_sync_status: "failed" }, failedRun).fetch);
  const error = await screen.findByTestId("last-sync-error");
  expect(error).toHaveTextContent("Jira asked Rita to slow down");
  expect(error).toHaveTextContent("Details: 429 from Jira after 5 retries");
});

test("a failed re-verification keeps the last successful time and offers Re-verify credentials", async () => {
  const user = userEvent.setup();
  const failed = {
    ...verified,
    enabled: false,
    last_verification_at: "2026-01-21T09:00:00Z",
    last_verification_error: "Jira rejected the email or API token (401)",
    last_verification_error_code: "auth_failed" as const,
  };
  renderAt("/settings/connections/itsm/j1", api(failed).fetch);
  expect(await screen.findByTestId("status-hint")).toHaveTextContent("Jira did not accept the credentials.");
  // "Last verified" is the last success, not the failed attempt.
  expect(screen.getByTestId("last-verified")).toHaveTextContent(formatDateTime("2026-01-20T10:00:00Z"));
  expect(screen.getByTestId("last-verified")).not.toHaveTextContent(formatDateTime("2026-01-21T09:00:00Z"));
  expect(screen.getByRole("button", { name: "Import tickets" })).toBeDisabled();
  await user.click(screen.getByRole("button", { name: "Re-verify credentials" }));
  expect(screen.getByRole("heading", { name: "Edit Jira connection" })).toBeInTheDocument();
  expect(screen.getByLabelText(/Jira URL/)).toHaveValue("https://company.atlassian.net");
  await user.click(screen.getByRole("button", { name: "Back to configuration" }));
  expect(screen.getByRole("heading", { name: "Jira configuration" })).toBeInTheDocument();
});

test("a non-credential failure offers Verify again", async () => {
  const failed = { ...verified, enabled: false, last_verification_error: "no answer", last_verification_error_code: "verification_timeout" as const };
  renderAt("/settings/connections/itsm/j1", api(failed).fetch);
  expect(await screen.findByRole("button", { name: "Verify again" })).toBeEnabled();
  expect(screen.getByTestId("status-hint")).toHaveTextContent("No answer came from the sync service in time");
});

test("a verification result arriving by event is announced", async () => {
  const { store } = renderAt("/settings/connections/itsm/j1", api({ ...verified, status: "verifying", version: 2 }).fetch);
  await screen.findByRole("heading", { name: "Jira configuration" });
  act(() => store.putConnections([{ ...verified, status: "idle", version: 3 }]));
  expect(screen.getByTestId("announcements")).toHaveTextContent("Jira verified: the connection is ready.");
});

test("a scope the API refuses is shown on the scope with its message", async () => {
  const user = userEvent.setup();
  const fake = api(verified, null, {
    "PATCH /api/data-sources/j1": () => ({
      status: 422,
      body: {
        code: "validation_error",
        detail: "Invalid config",
        errors: [{ loc: ["body", "config", "project_keys"], msg: "Value error, unknown project keys: OPS", type: "value_error" }],
      },
    }),
  });
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await user.click(await screen.findByLabelText("Selected projects"));
  await user.click(screen.getByLabelText("Operations (OPS)"));
  await user.click(screen.getByRole("button", { name: "Import tickets" }));
  expect(await within(screen.getByTestId("import-scope")).findByText("Unknown project keys: OPS.")).toBeInTheDocument();
  expect(fake.calls.some((c) => c.path.endsWith("/sync-tickets"))).toBe(false);
});
