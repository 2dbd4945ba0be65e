/**
 * Live updates from the SSE gateway. The events token in the URL lives 120 s, so the browser's
 * own EventSource retry (same URL) would fail once it expired: on any error, and on the gateway's
 * `reconnect`, this closes the stream and opens a new one with a fresh token and the last event id
 * (`last_event_id`), so the gateway replays what was missed. `resync` means the id fell out of the
 * replay window: the views refetch.
 */
import type { Connection, IngestionRun } from "../api/client";

export type LiveState = "connecting" | "open" | "offline";

export interface LiveHandlers {
  eventsToken: () => Promise<string>;
  onConnection: (row: Connection) => void;
  onRun: (run: IngestionRun) => void;
  onResync: () => void;
  onState: (state: LiveState) => void;
  createEventSource?: (url: string) => EventSource;
  /** Delay before reconnect attempt `n` (1-based), in ms. */
  backoff?: (attempt: number) => number;
}

const defaultBackoff = (attempt: number): number =>
  Math.min(15_000, 500 * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2);

export class LiveEvents {
  lastEventId: string | null = null;
  private source: EventSource | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private stopped = true;

  constructor(private readonly handlers: LiveHandlers) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.source?.close();
    this.source = null;
  }

  private async connect(): Promise<void> {
    this.handlers.onState("connecting");
    let token: string;
    try {
      token = await this.handlers.eventsToken();
    } catch {
      this.retry();
      return;
    }
    if (this.stopped) return;
    const query = new URLSearchParams({ access_token: token });
    if (this.lastEventId) query.set("last_event_id", this.lastEventId);
    const create = this.handlers.createEventSource ?? ((url: string) => new EventSource(url));
    const source = create(`/events?${query.toString()}`);
    this.source = source;
    const hadCursor = this.lastEventId !== null;
    source.onopen = () => {
      this.attempts = 0;
      this.handlers.onState("open");
      // Without a cursor nothing is replayed: refetch so changes made while we were away show.
      if (!hadCursor) this.handlers.onResync();
    };
    source.onerror = () => this.retry();
    const track = (event: MessageEvent<string>) => {
      if (event.lastEventId) this.lastEventId = event.lastEventId;
    };
    source.addEventListener("data_source_update", (event: MessageEvent<string>) => {
      track(event);
      this.handlers.onConnection(JSON.parse(event.data) as Connection);
    });
    source.addEventListener("ingestion_run_update", (event: MessageEvent<string>) => {
      track(event);
      this.handlers.onRun(JSON.parse(event.data) as IngestionRun);
    });
    source.addEventListener("resync", (event: MessageEvent<string>) => {
      track(event);
      this.handlers.onResync();
    });
    source.addEventListener("reconnect", () => {
      this.close();
      void this.connect();
    });
  }

  private close(): void {
    this.source?.close();
    this.source = null;
  }

  private retry(): void {
    this.close();
    if (this.stopped || this.timer) return;
    this.handlers.onState("offline");
    this.attempts += 1;
    const delay = (this.handlers.backoff ?? defaultBackoff)(this.attempts);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) void this.connect();
    }, delay);
  }
}
