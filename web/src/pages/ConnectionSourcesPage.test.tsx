import { act, screen, within } from "@testing-library/react";
import { connection, devToken, fakeFetch } from "../test/fakeApi";
import { renderAt } from "../test/render";

const rows = [
  connection({ id: "a", type: "jira_itsm", name: "Jira ITSM" }),
  connection({ id: "b", type: "servicenow", name: "ServiceNow" }),
];

test("ITSM list shows ServiceNow, Jira, Freshdesk in order with Jira linking to its detail route", async () => {
  const api = fakeFetch({ ...devToken, "GET /api/data-sources": () => ({ body: { data: rows, count: 2 } }) });
  renderAt("/settings/connections/itsm", api.fetch);
  const list = await screen.findByTestId("itsm-list");
  const titles = within(list).getAllByRole("heading", { level: 3 }).map((h) => h.textContent);
  expect(titles).toEqual(["ServiceNow", "Jira", "Freshdesk"]);
  expect(within(list).getByRole("link", { name: "Open Jira" })).toHaveAttribute("href", "/settings/connections/itsm/a");
  expect(within(list).getByText("Coming soon")).toBeInTheDocument();
  expect(list.querySelector('[data-source="jira_itsm"] svg[data-icon="jira_itsm"]')).not.toBeNull();
  expect(api.calls.find((c) => c.path.startsWith("/api/data-sources"))?.path).toBe("/api/data-sources?category=itsm");
});

test("the console never seeds: it only reads the list (the API ensures the default rows)", async () => {
  const api = fakeFetch({ ...devToken, "GET /api/data-sources": () => ({ body: { data: rows, count: 2 } }) });
  renderAt("/settings/connections/itsm", api.fetch);
  await screen.findByRole("link", { name: "Open Jira" });
  expect(api.calls.some((c) => c.method === "POST" && c.path.includes("seed"))).toBe(false);
  expect(api.calls.every((c) => c.path === "/api/dev/token" || c.auth === "Bearer dev.token.x")).toBe(true);
});

test("the knowledge list never shows jira_itsm even if the store holds it", async () => {
  const knowledge = [
    connection({ id: "k1", type: "confluence", name: "Confluence" }),
    connection({ id: "k2", type: "jira", name: "Jira" }),
  ];
  const api = fakeFetch({ ...devToken, "GET /api/data-sources": () => ({ body: { data: knowledge, count: 2 } }) });
  const { store } = renderAt("/settings/connections/knowledge", api.fetch);
  act(() => store.putConnections(rows));
  const list = await screen.findByTestId("knowledge-list");
  expect(list.querySelector('[data-source="jira_itsm"]')).toBeNull();
  expect(list.querySelector('[data-source="jira"]')).not.toBeNull();
  expect(within(list).queryByRole("link")).toBeNull();
});

test("tabs are links with aria-current on the active list", async () => {
  const api = fakeFetch({ ...devToken, "GET /api/data-sources": () => ({ body: { data: rows, count: 2 } }) });
  renderAt("/settings/connections/itsm", api.fetch);
  const tabs = await screen.findByRole("navigation", { name: "Source categories" });
  expect(within(tabs).getByRole("link", { name: "ITSM Sources" })).toHaveAttribute("aria-current", "page");
  expect(within(tabs).getByRole("link", { name: "Knowledge Sources" })).not.toHaveAttribute("aria-current");
});
