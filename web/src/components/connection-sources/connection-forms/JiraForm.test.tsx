import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { connection, devToken, fakeFetch } from "../../../test/fakeApi";
import { renderAt } from "../../../test/render";

const row = connection({ id: "j1" });
const TOKEN = "ATATT-secret-token-123";

function api(verify: () => { status?: number; body: unknown }) {
  return fakeFetch({
    ...devToken,
    "GET /api/data-sources/j1": () => ({ body: row }),
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

test("Verify sends settings and credentials and forgets the token", async () => {
  const user = userEvent.setup();
  const fake = api(() => ({ status: 202, body: { ...row, status: "verifying", version: 2 } }));
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await fill(user);
  await user.click(screen.getByRole("button", { name: "Verify" }));
  await screen.findByText(/Checking the credentials/);
  expect(fake.calls.find((c) => c.path.endsWith("/verify"))?.body).toEqual({
    settings: { base_url: "https://company.atlassian.net", email: "user@company.com" },
    credentials: { email: "user@company.com", api_token: TOKEN },
  });
  expect(screen.getByLabelText(/API Token/)).toHaveValue("");
  expect(document.body.innerHTML).not.toContain(TOKEN);
});

test("a problem+json error is shown readably and never echoes the token", async () => {
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
});

test("validation errors from the API land on their fields", async () => {
  const user = userEvent.setup();
  const fake = api(() => ({
    status: 422,
    body: { code: "validation_error", errors: [{ loc: ["body", "settings", "base_url"], msg: "must use https", type: "x" }] },
  }));
  renderAt("/settings/connections/itsm/j1", fake.fetch);
  await fill(user);
  await user.click(screen.getByRole("button", { name: "Verify" }));
  expect(await screen.findByText("must use https")).toBeInTheDocument();
  expect(screen.getByRole("alert")).toHaveTextContent("Some values are not valid.");
});
