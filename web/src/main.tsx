import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import App from "./App";
import { adoptTokenFromUrl } from "./api/auth";
import { createApi } from "./api/client";
import { ConnectionStore } from "./state/store";
import "./styles.css";

adoptTokenFromUrl();
const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App api={createApi()} store={new ConnectionStore()} />
    </StrictMode>,
  );
}
