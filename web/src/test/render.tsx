/** Render the console shell at a route with a fake API and no SSE. */
import { render } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { Shell } from "../App";
import { createApi } from "../api/client";
import { ConnectionStore } from "../state/store";

export function renderAt(path: string, fetchImpl: typeof fetch) {
  const store = new ConnectionStore();
  const api = createApi(fetchImpl);
  const view = render(
    <MemoryRouter initialEntries={[path]}>
      <Shell api={api} store={store} live={false} />
    </MemoryRouter>,
  );
  return { ...view, store };
}
