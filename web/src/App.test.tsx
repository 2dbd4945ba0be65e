import { act, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { PAUSE_AFTER_MS, POLL_MS, Shell } from "./App";
import { createApi } from "./api/client";
import { ConnectionStore } from "./state/store";
import { connection, devToken, fakeFetch } from "./test/fakeApi";
import { renderAt } from "./test/render";

const member = { "GET /api/me": () => ({ body: { subject: "m1", email: "member@example.com", tenant_id: "t", role: "member" } }) };

test("a member sees a read-only configuration: no form, disabled actions with the reason", async () => {
  const neverVerified = connection({ id: "j1" });
  const api = fakeFetch({
    ...devToken,
    ...member,
    "GET /api/data-sources/j1": () => ({ body: neverVerified }),
    "GET /api/data-sources/j1/ingestion-runs/latest": () => ({ body: null }),
  });
  renderAt("/settings/connections/itsm/j1", api.fetch);
  expect(await screen.findByRole("heading", { name: "Jira configuration" })).toBeInTheDocument();
  expect(screen.queryByRole("heading", { name: "Connect Jira" })).toBeNull();
  expect(screen.queryByRole("textbox")).toBeNull();
  const reason = screen.getByTestId("read-only-reason");
  expect(reason).toHaveTextContent("read-only access (member)");
  const importButton = screen.getByRole("button", { name: "Import tickets" });
  expect(importButton).toBeDisabled();
  expect(importButton).toHaveAttribute("aria-describedby", reason.id);
  expect(screen.getByRole("button", { name: "Edit credentials" })).toBeDisabled();
  expect(screen.getByTestId("signed-in-as")).toHaveTextContent("member@example.com (member)");
});

test("an admin on a never-verified connection gets the form", async () => {
  const api = fakeFetch({
    ...devToken,
    "GET /api/me": () => ({ body: { subject: "a", email: "admin@example.com", tenant_id: "t", role: "admin" } }),
    "GET /api/data-sources/j1": () => ({ body: connection({ id: "j1" }) }),
    "GET /api/data-sources/j1/ingestion-runs/latest": () => ({ body: null }),
  });
  renderAt("/settings/connections/itsm/j1", api.fetch);
  expect(await screen.findByRole("heading", { name: "Connect Jira" })).toBeInTheDocument();
  expect(screen.queryByTestId("read-only-reason")).toBeNull();
});

/** An EventSource that never opens: every attempt fails at once. */
class FailingSource {
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor() {
    queueMicrotask(() => this.onerror?.());
  }
  addEventListener() {}
  close() {}
}

test("when the stream cannot open, the console says live updates are paused and refreshes every 10 s", async () => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  try {
    const api = fakeFetch({
      ...devToken,
      "POST /api/events/token": () => ({ body: { access_token: "ev", token_type: "bearer", expires_in: 120 } }),
      "GET /api/data-sources": () => ({ body: { data: [connection({ id: "a" })], count: 1 } }),
    });
    render(
      <MemoryRouter initialEntries={["/settings/connections/itsm"]}>
        <Shell api={createApi(api.fetch)} store={new ConnectionStore()} createEventSource={() => new FailingSource() as unknown as EventSource} />
      </MemoryRouter>,
    );
    await screen.findByTestId("itsm-list");
    const reads = () => api.calls.filter((c) => c.path.startsWith("/api/data-sources")).length;
    expect(screen.getByTestId("live-state")).not.toHaveTextContent("paused");
    await act(async () => {
      await vi.advanceTimersByTimeAsync(PAUSE_AFTER_MS + 100);
    });
    expect(screen.getByTestId("live-state")).toHaveTextContent("Live updates paused");
    const before = reads();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(POLL_MS + 100);
    });
    expect(reads()).toBeGreaterThan(before);
    expect(within(screen.getByTestId("itsm-list")).getByRole("link", { name: "Open Jira" })).toBeInTheDocument();
  } finally {
    vi.useRealTimers();
  }
});
