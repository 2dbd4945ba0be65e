import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { connection, devToken, fakeFetch } from "../../../test/fakeApi";
import { renderAt } from "../../../test/render";
import { STILL_WAITING_MS } from "./CredentialsForm";

const row = connection({ id: "j1" });
const TOKEN = "ATATT-secret-token-123";

function api(verify: () => { status?: number; body: unknown }, current = row) {
  return fakeFetch({
    ...devToken,
    "GET /api/data-sources/j1": () => ({ body: current }),
    "GET /api/data-sources/j1/ingestion-runs/latest": () => ({ body: null }),
    "POST /api/data-sources/j1/verify": verify,
  });
}

async function fill(user: ReturnType<typeof userEvent.setup>) {
  await user.type(await screen.findByLabelText(/Jira URL/), "https://company.atlassian.net");
  await user.type(screen.getByLabelText(/Email/), "user@company.com");
  await user.type(screen.getByLabelText(/API Token/), TOKEN);
}

test("renders base_url, email and a password api_token with labels and help", async () => {
  renderAt("/settings/connections/itsm/j1", api(() => ({ body: row })).fetch);
  expect(await screen.findByLabelText(/Jira URL/)).toHaveAttribute("type", "url");
  expect(screen.getByLabelText(/Email/)).toHaveAttribute("type", "email");
  const token = screen.getByLabelText(/API Token/);
  expect(token).toHaveAttribute("type", "password");
  expect(token).toHaveAttribute("aria-required", "true");
  expect(token.getAttribute("aria-describedby")).toBeTruthy();
  expect(screen.getByRole("heading", { name: "Connect Jira" })).toBeInTheDocument();
});

test("client-side validation marks fields, focuses the first, and sends nothing", async () => {
  const user = userEvent.setup();
  const fake = api(() => ({ body: row }));
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await user.type(await screen.findByLabelText(/Jira URL/), "ftp://nope");
  await user.click(screen.getByRole("button", { name: "Verify" }));
  expect(screen.getByLabelText(/Jira URL/)).toHaveAttribute("aria-invalid", "true");
  expect(screen.getByLabelText(/Jira URL/)).toHaveFocus();
  expect(screen.getByText("Enter a full address starting with https://")).toBeInTheDocument();
  expect(screen.getByLabelText(/API Token/)).toHaveAttribute("aria-invalid", "true");
  expect(fake.calls.some((c) => c.path.endsWith("/verify"))).toBe(false);
});

test("Verify sends settings and credentials and forgets the token once accepted", async () => {
  const user = userEvent.setup();
  const fake = api(() => ({ status: 202, body: { ...row, status: "verifying", version: 2 } }));
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await fill(user);
  await user.click(screen.getByRole("button", { name: "Verify" }));
  await screen.findByText(/Checking the credentials with Jira/);
  expect(fake.calls.find((c) => c.path.endsWith("/verify"))?.body).toEqual({
    settings: { base_url: "https://company.atlassian.net", email: "user@company.com" },
    credentials: { email: "user@company.com", api_token: TOKEN },
  });
  expect(screen.getByLabelText(/API Token/)).toHaveValue("");
  expect(document.body.innerHTML).not.toContain(TOKEN);
});

test("a problem+json error is shown readably, never echoes the token, and keeps what was typed", async () => {
  const user = userEvent.setup();
  const fake = api(() => ({
    status: 502,
    body: { code: "sync_service_unavailable", title: "x", detail: `could not send ${TOKEN}` },
  }));
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await fill(user);
  await user.click(screen.getByRole("button", { name: "Verify" }));
  const alert = await screen.findByRole("alert");
  expect(alert).toHaveTextContent("could not send •••");
  expect(document.body.innerHTML).not.toContain(TOKEN);
  expect(screen.getByLabelText(/API Token/)).toHaveValue(TOKEN);
});

test("validation errors from the API land on their fields with human messages; values are kept", async () => {
  const user = userEvent.setup();
  const fake = api(() => ({
    status: 422,
    body: {
      code: "validation_error",
      detail: "See `errors` for each invalid field",
      errors: [{ loc: ["body", "settings", "base_url"], msg: "Value error, the URL must use https", type: "value_error" }],
    },
  }));
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await fill(user);
  await user.click(screen.getByRole("button", { name: "Verify" }));
  const url = screen.getByLabelText(/Jira URL/);
  expect(await screen.findByText("The URL must use https.")).toBeInTheDocument();
  expect(url).toHaveAttribute("aria-invalid", "true");
  expect(url.getAttribute("aria-describedby")).toContain(screen.getByText("The URL must use https.").id);
  expect(url).toHaveFocus();
  expect(screen.getByRole("alert")).not.toHaveTextContent("base_url");
  expect(url).toHaveValue("https://company.atlassian.net");
  expect(screen.getByLabelText(/API Token/)).toHaveValue(TOKEN);
  expect(document.body.innerHTML).not.toContain(TOKEN);
});

test("an unsafe URL (named in the detail) is attached to the URL field", async () => {
  const user = userEvent.setup();
  const fake = api(() => ({ status: 422, body: { code: "unsafe_url", detail: "base_url: the URL must use https" } }));
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await fill(user);
  await user.click(screen.getByRole("button", { name: "Verify" }));
  expect(await screen.findByText(/may not call this address: the URL must use https/)).toBeInTheDocument();
  expect(screen.getByLabelText(/Jira URL/)).toHaveAttribute("aria-invalid", "true");
});

test("a failed first verification stays on the form: the reason per code, no way back to a configuration", async () => {
  const failed = connection({
    id: "j1",
    settings: { base_url: "https://company.atlassian.net", email: "user@company.com" },
    last_verification_at: "2026-01-20T10:00:00Z",
    last_verified_at: null,
    last_verification_error: "Jira rejected the email or API token (401)",
    last_verification_error_code: "auth_failed",
  });
  renderAt("/settings/connections/itsm/j1", api(() => ({ body: failed }), failed).fetch);
  const alert = await screen.findByTestId("verification-error");
  expect(alert).toHaveTextContent("Verification failed: Jira did not accept the credentials.");
  expect(alert).toHaveTextContent("Details: Jira rejected the email or API token (401)");
  expect(screen.getByRole("heading", { name: "Connect Jira" })).toBeInTheDocument();
  expect(screen.queryByRole("button", { name: "Back to configuration" })).toBeNull();
  expect(screen.queryByText("Last verified")).toBeNull();
});

test("a long verification says it is still waiting and Verify stays available", async () => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  try {
    const verifying = connection({ id: "j1", status: "verifying", settings: { base_url: "https://x.atlassian.net", email: "a@b.co" } });
    renderAt("/settings/connections/itsm/j1", api(() => ({ body: verifying }), verifying).fetch);
    expect(await screen.findByTestId("verify-status")).toHaveTextContent("Checking the credentials with Jira");
    expect(screen.getByRole("button", { name: "Verify" })).toBeEnabled();
    expect(screen.getByLabelText(/API Token/)).toBeEnabled();
    act(() => vi.advanceTimersByTime(STILL_WAITING_MS + 10));
    expect(screen.getByTestId("verify-status")).toHaveTextContent("Still waiting for Jira to answer");
  } finally {
    vi.useRealTimers();
  }
});

test("ServiceNow uses the same form over its own fields", async () => {
  const user = userEvent.setup();
  const sn = connection({ id: "s1", type: "servicenow", name: "ServiceNow" });
  const fake = fakeFetch({
    ...devToken,
    "GET /api/data-sources/s1": () => ({ body: sn }),
    "GET /api/data-sources/s1/ingestion-runs/latest": () => ({ body: null }),
    "POST /api/data-sources/s1/verify": () => ({ status: 202, body: { ...sn, status: "verifying", version: 2 } }),
  });
  renderAt("/settings/connections/itsm/s1", fake.fetch);
  expect(await screen.findByRole("heading", { name: "Connect ServiceNow" })).toBeInTheDocument();
  await user.type(screen.getByLabelText(/Instance URL/), "https://acme.service-now.com");
  await user.type(screen.getByLabelText(/User name/), "integration.user");
  expect(screen.getByLabelText(/Password/)).toHaveAttribute("type", "password");
  await user.type(screen.getByLabelText(/Password/), "pw-secret-1");
  await user.click(screen.getByRole("button", { name: "Verify" }));
  await screen.findByText(/Checking the credentials with ServiceNow/);
  expect(fake.calls.find((c) => c.path.endsWith("/verify"))?.body).toEqual({
    settings: { instance_url: "https://acme.service-now.com", username: "integration.user" },
    credentials: { username: "integration.user", password: "pw-secret-1" },
  });
});
