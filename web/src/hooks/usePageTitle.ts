/** The document title names the page (and the connection on its detail page). */
import { useEffect } from "react";
import { t } from "../i18n";

export function usePageTitle(page: string): void {
  useEffect(() => {
    const previous = document.title;
    document.title = t("app.title", { page });
    return () => {
      document.title = previous;
    };
  }, [page]);
}
