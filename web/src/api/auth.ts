/**
 * Where the browser's API token comes from: `?token=` (kept in localStorage and removed from the
 * address bar), a stored token that has not expired, or, in development, `POST /api/dev/token`.
 */
const STORAGE_KEY = "rita.token";
// Renew a little before expiry so a request never leaves with a token about to lapse.
const EXPIRY_MARGIN_SECONDS = 30;

export class SignInRequired extends Error {
  constructor() {
    super("sign-in required");
    this.name = "SignInRequired";
  }
}

function expiresAt(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: unknown };
    return typeof json.exp === "number" ? json.exp : null;
  } catch {
    return null;
  }
}

function usable(token: string | null): token is string {
  if (!token) return false;
  const exp = expiresAt(token);
  return exp === null || exp - EXPIRY_MARGIN_SECONDS > Date.now() / 1000;
}

/** Take a `?token=` from the address bar into storage, so it is not left in history or logs. */
export function adoptTokenFromUrl(location: Location = window.location): void {
  const url = new URL(location.href);
  const token = url.searchParams.get("token");
  if (!token) return;
  window.localStorage.setItem(STORAGE_KEY, token);
  url.searchParams.delete("token");
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
}

export class TokenSource {
  private pending: Promise<string> | null = null;

  constructor(private readonly fetchImpl: typeof fetch = (...a) => fetch(...a)) {}

  /** A usable API token, minting a development token when none is stored. */
  async get(): Promise<string> {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    if (usable(stored)) return stored;
    this.pending ??= this.mintDevToken().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** Forget the stored token (after a 401). */
  invalidate(): void {
    window.localStorage.removeItem(STORAGE_KEY);
  }

  private async mintDevToken(): Promise<string> {
    let response: Response;
    try {
      response = await this.fetchImpl(new URL("/api/dev/token", window.location.origin), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
    } catch {
      throw new SignInRequired();
    }
    if (!response.ok) throw new SignInRequired();
    const body = (await response.json()) as { access_token?: unknown };
    if (typeof body.access_token !== "string") throw new SignInRequired();
    window.localStorage.setItem(STORAGE_KEY, body.access_token);
    return body.access_token;
  }
}
