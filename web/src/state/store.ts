/**
 * The console's client-side state: connection rows and each connection's latest run, fed by REST
 * responses and SSE events alike. Rows carry a `version` bumped on every change, so an older copy
 * (a slow response, a replayed event) never replaces a newer one. Each connection also keeps its
 * last *finished* run, so the Last sync panel can show the previous count and range while a new
 * import runs (the latest run is then the active one).
 */
import type { Connection, IngestionRun } from "../api/client";

type Listener = () => void;

export const TERMINAL_RUN_STATUSES: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

export function isFinished(run: IngestionRun): boolean {
  return TERMINAL_RUN_STATUSES.has(run.status);
}

/** Whether `a` is at least as new as `b`: the same run by its `updated_at`, else the later one. */
function newer(a: IngestionRun, b: IngestionRun): boolean {
  if (a.id === b.id) return a.updated_at >= b.updated_at;
  return a.created_at >= b.created_at;
}

export class ConnectionStore {
  private rows = new Map<string, Connection>();
  private runs = new Map<string, IngestionRun | null>();
  private finished = new Map<string, IngestionRun>();
  private listeners = new Set<Listener>();
  private snapshot = 0;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** A number that changes whenever anything changes (for useSyncExternalStore). */
  getSnapshot = (): number => this.snapshot;

  private changed(): void {
    this.snapshot += 1;
    for (const listener of this.listeners) listener();
  }

  /** Apply rows unless the store already holds a newer version of them. */
  putConnections(rows: readonly Connection[]): void {
    let dirty = false;
    for (const row of rows) {
      const current = this.rows.get(row.id);
      if (!current || row.version >= current.version) {
        this.rows.set(row.id, row);
        dirty = true;
      }
    }
    if (dirty) this.changed();
  }

  /** Set a connection's latest run (`null`: it has none) unless ours is newer. */
  putRun(connectionId: string, run: IngestionRun | null): void {
    if (run && isFinished(run)) this.rememberFinished(connectionId, run);
    const current = this.runs.get(connectionId);
    if (run && current && !newer(run, current)) return;
    if (!run && current) return;
    this.runs.set(connectionId, run);
    this.changed();
  }

  /** Remember a finished run (e.g. from the run history) unless a newer finished one is known. */
  putFinishedRun(connectionId: string, run: IngestionRun): void {
    if (isFinished(run) && this.rememberFinished(connectionId, run)) this.changed();
  }

  private rememberFinished(connectionId: string, run: IngestionRun): boolean {
    const current = this.finished.get(connectionId);
    if (current && !newer(run, current)) return false;
    this.finished.set(connectionId, run);
    return true;
  }

  connection(id: string): Connection | undefined {
    return this.rows.get(id);
  }

  connections(): Connection[] {
    return [...this.rows.values()];
  }

  latestRun(connectionId: string): IngestionRun | null | undefined {
    return this.runs.get(connectionId);
  }

  /** The newest run of this connection that has ended (completed, failed or cancelled). */
  lastFinishedRun(connectionId: string): IngestionRun | undefined {
    return this.finished.get(connectionId);
  }
}
