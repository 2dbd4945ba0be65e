import { connection, run } from "../test/fakeApi";
import { LiveEvents, type LiveHandlers } from "./live";

/** An EventSource double: tests drive open, errors and named events. */
class FakeSource {
  static all: FakeSource[] = [];
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  private listeners = new Map<string, (e: MessageEvent<string>) => void>();
  constructor(readonly url: string) {
    FakeSource.all.push(this);
  }
  addEventListener(name: string, fn: (e: MessageEvent<string>) => void) {
    this.listeners.set(name, fn);
  }
  close() {
    this.closed = true;
  }
  emit(name: string, data: unknown, id = "") {
    this.listeners.get(name)?.(new MessageEvent(name, { data: JSON.stringify(data), lastEventId: id }));
  }
}

function setup(overrides: Partial<LiveHandlers> = {}) {
  FakeSource.all = [];
  let n = 0;
  const handlers = {
    eventsToken: vi.fn(async () => `events-token-${++n}`),
    onConnection: vi.fn(),
    onRun: vi.fn(),
    onResync: vi.fn(),
    onState: vi.fn(),
    createEventSource: (url: string) => new FakeSource(url) as unknown as EventSource,
    backoff: () => 0,
    ...overrides,
  };
  const live = new LiveEvents(handlers);
  return { live, handlers };
}

function source(index: number): FakeSource {
  const found = FakeSource.all[index];
  if (!found) throw new Error(`no EventSource #${index}`);
  return found;
}

const flush = () => new Promise((r) => setTimeout(r, 0));

test("events update the store; a first open without a cursor refetches", async () => {
  const { live, handlers } = setup();
  live.start();
  await flush();
  const first = source(0);
  expect(first.url).toBe("/events?access_token=events-token-1");
  first.onopen?.();
  expect(handlers.onResync).toHaveBeenCalledTimes(1);
  first.emit("data_source_update", connection(), "1-0");
  first.emit("ingestion_run_update", run(), "2-0");
  expect(handlers.onConnection).toHaveBeenCalledWith(connection());
  expect(handlers.onRun).toHaveBeenCalledWith(run());
  expect(live.lastEventId).toBe("2-0");
  live.stop();
});

test("an error reconnects with a fresh token and the last event id", async () => {
  const { live, handlers } = setup();
  live.start();
  await flush();
  source(0).emit("data_source_update", connection(), "5-1");
  source(0).onerror?.();
  expect(source(0).closed).toBe(true);
  expect(handlers.onState).toHaveBeenCalledWith("offline");
  await flush();
  await flush();
  expect(source(1).url).toBe("/events?access_token=events-token-2&last_event_id=5-1");
  source(1).onopen?.();
  expect(handlers.onResync).not.toHaveBeenCalled();
  live.stop();
});

test("reconnect events reconnect at once; resync events refetch", async () => {
  const { live, handlers } = setup();
  live.start();
  await flush();
  source(0).emit("resync", {}, "9-0");
  expect(handlers.onResync).toHaveBeenCalledTimes(1);
  source(0).emit("reconnect", { reason: "lifetime" });
  await flush();
  expect(FakeSource.all).toHaveLength(2);
  expect(source(1).url).toContain("last_event_id=9-0");
  expect(handlers.eventsToken).toHaveBeenCalledTimes(2);
  live.stop();
});
