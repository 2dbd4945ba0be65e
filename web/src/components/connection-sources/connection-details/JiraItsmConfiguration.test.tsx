import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { connection, devToken, fakeFetch, run } from "../../../test/fakeApi";
import { renderAt } from "../../../test/render";

const verified = connection({
  id: "j1",
  enabled: true,
  settings: { base_url: "https://company.atlassian.net", email: "user@company.com" },
  last_verification_at: "2026-01-20T10:00:00Z",
});

function api(row = verified, latest: unknown = null) {
  return fakeFetch({
    ...devToken,
    "GET /api/data-sources/j1": () => ({ body: row }),
    "GET /api/data-sources/j1/ingestion-runs/latest": () => ({ body: latest }),
    "POST /api/data-sources/j1/sync-tickets": (c) => ({
      status: 202,
      body: run({ status: "pending", time_range_days: (c.body as { time_range_days: number }).time_range_days }),
    }),
    "POST /api/data-sources/j1/cancel-ingestion": () => ({ status: 202, body: run({ status: "cancelled", updated_at: "2026-01-20T10:05:00Z" }) }),
  });
}

test("a verified connection shows the configuration with status, site and account", async () => {
  renderAt("/settings/connections/itsm/j1", api().fetch);
  expect(await screen.findByRole("heading", { name: "Jira ITSM Configuration" })).toBeInTheDocument();
  expect(screen.getByText("https://company.atlassian.net")).toBeInTheDocument();
  expect(screen.getAllByTestId("status-badge")[0]).toHaveTextContent("Connected");
  expect(screen.getByText("No tickets imported yet.")).toBeInTheDocument();
});

test("Import tickets sends the chosen time range", async () => {
  const user = userEvent.setup();
  const fake = api();
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await user.click(await screen.findByLabelText("Last 60 days"));
  await user.click(screen.getByRole("button", { name: "Import tickets" }));
  expect(fake.calls.find((c) => c.path.endsWith("/sync-tickets"))?.body).toEqual({ time_range_days: 60 });
  expect(await screen.findByRole("button", { name: "Cancel" })).toBeInTheDocument();
});

test("the progress bar follows records_processed / total_estimated from run events", async () => {
  const { store } = renderAt("/settings/connections/itsm/j1", api({ ...verified, status: "syncing" }, run()).fetch);
  await screen.findByRole("heading", { name: "Jira ITSM Configuration" });
  act(() => store.putRun("j1", run({ records_processed: 40, total_estimated: 160, updated_at: "2026-01-20T10:01:00Z" })));
  const bar = screen.getByRole("progressbar", { name: "Ticket import progress" });
  expect(bar).toHaveAttribute("aria-valuenow", "40");
  expect(bar).toHaveAttribute("aria-valuemax", "160");
  expect(screen.getByTestId("progress-text")).toHaveTextContent("40 of 160 tickets · 25%");
  act(() => {
    store.putRun("j1", run({ status: "completed", records_processed: 160, total_estimated: 160, updated_at: "2026-01-20T10:02:00Z" }));
    store.putConnections([{ ...verified, version: 5, last_sync_status: "completed", last_sync_at: "2026-01-20T10:02:00Z" }]);
  });
  expect(screen.queryByRole("progressbar")).toBeNull();
  expect(screen.getByTestId("last-sync-status")).toHaveTextContent("completed");
  expect(screen.getByTestId("last-sync-records")).toHaveTextContent("160");
});

test("Cancel calls cancel-ingestion and shows the cancelled run", async () => {
  const user = userEvent.setup();
  const fake = api({ ...verified, status: "syncing" }, run({ connection_id: "j1" }));
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await user.click(await screen.findByRole("button", { name: "Cancel" }));
  expect(fake.calls.some((c) => c.method === "POST" && c.path.endsWith("/cancel-ingestion"))).toBe(true);
  expect(await screen.findByTestId("last-sync-status")).toHaveTextContent("cancelled");
});

test("a failed re-verification offers Re-verify credentials, which opens the form", async () => {
  const user = userEvent.setup();
  const failed = { ...verified, enabled: false, last_verification_error: "Jira rejected the email or API token (401)" };
  renderAt("/settings/connections/itsm/j1", api(failed).fetch);
  expect(await screen.findByRole("alert")).toHaveTextContent("rejected the email or API token");
  expect(screen.getByRole("button", { name: "Import tickets" })).toBeDisabled();
  await user.click(screen.getByRole("button", { name: "Re-verify credentials" }));
  expect(screen.getByRole("heading", { name: "Connect Jira" })).toBeInTheDocument();
  expect(screen.getByLabelText(/Jira URL/)).toHaveValue("https://company.atlassian.net");
});
