import { connection, run } from "../test/fakeApi";
import { ConnectionStore } from "./store";

test("the newer version of a row wins, whatever order the copies arrive in", () => {
  const store = new ConnectionStore();
  const listener = vi.fn();
  store.subscribe(listener);
  store.putConnections([connection({ id: "c", version: 3, name: "three" })]);
  store.putConnections([connection({ id: "c", version: 2, name: "two" })]);
  expect(store.connection("c")?.name).toBe("three");
  expect(listener).toHaveBeenCalledTimes(1);
  store.putConnections([connection({ id: "c", version: 4, name: "four" })]);
  expect(store.connection("c")?.name).toBe("four");
  expect(listener).toHaveBeenCalledTimes(2);
});

test("a stale copy of the same run never replaces a later update; a newer run replaces an older one", () => {
  const store = new ConnectionStore();
  store.putRun("c", run({ id: "r1", records_processed: 50, updated_at: "2026-01-20T10:02:00Z" }));
  store.putRun("c", run({ id: "r1", records_processed: 10, updated_at: "2026-01-20T10:01:00Z" }));
  expect(store.latestRun("c")?.records_processed).toBe(50);
  store.putRun("c", null);
  expect(store.latestRun("c")?.id).toBe("r1");
  store.putRun("c", run({ id: "r0", created_at: "2026-01-19T00:00:00Z" }));
  expect(store.latestRun("c")?.id).toBe("r1");
  store.putRun("c", run({ id: "r2", created_at: "2026-01-21T00:00:00Z" }));
  expect(store.latestRun("c")?.id).toBe("r2");
});

test("the last finished run stays while a new run is active", () => {
  const store = new ConnectionStore();
  const done = run({ id: "r1", status: "completed", records_processed: 120, time_range_days: 60 });
  store.putRun("c", done);
  store.putRun("c", run({ id: "r2", status: "running", created_at: "2026-01-21T00:00:00Z" }));
  expect(store.latestRun("c")?.id).toBe("r2");
  expect(store.lastFinishedRun("c")).toEqual(done);
  // An older finished run from the history does not replace it.
  store.putFinishedRun("c", run({ id: "r0", status: "failed", created_at: "2026-01-01T00:00:00Z" }));
  expect(store.lastFinishedRun("c")?.id).toBe("r1");
  // An active run is never taken as finished.
  store.putFinishedRun("c", run({ id: "r3", status: "running", created_at: "2026-02-01T00:00:00Z" }));
  expect(store.lastFinishedRun("c")?.id).toBe("r1");
});
