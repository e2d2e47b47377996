/**
 * A minimal request/response protocol between a page and its Web Worker: every request has an id;
 * the worker answers with any number of `progress` messages and one `result` or `error`.
 */
export type WorkerReply =
  | { id: number; kind: 'progress'; data: unknown }
  | { id: number; kind: 'result'; data: unknown }
  | { id: number; kind: 'error'; error: { name: string; message: string } };

export interface WorkerRequest {
  id: number;
  type: string;
  args: unknown;
}

export class WorkerClient {
  private next = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; onProgress?: (d: unknown) => void }
  >();

  constructor(readonly worker: Worker) {
    worker.addEventListener('message', (ev: MessageEvent<WorkerReply>) => {
      const m = ev.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.kind === 'progress') p.onProgress?.(m.data);
      else {
        this.pending.delete(m.id);
        if (m.kind === 'result') p.resolve(m.data);
        else {
          const e = new Error(m.error.message);
          e.name = m.error.name;
          p.reject(e);
        }
      }
    });
    worker.addEventListener('error', (ev) => {
      const e = new Error(`worker error: ${ev.message || 'failed to start'}`);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
  }

  call<T>(
    type: string,
    args: unknown,
    onProgress?: (d: unknown) => void,
    transfer: Transferable[] = [],
  ): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      this.worker.postMessage({ id, type, args } satisfies WorkerRequest, transfer);
    });
  }

  /** A message without an answer (e.g. `stop`). */
  send(type: string, args: unknown = null): void {
    this.worker.postMessage({ id: 0, type, args } satisfies WorkerRequest);
  }

  terminate(): void {
    this.worker.terminate();
  }
}

/** Worker side: registers handlers; a handler gets `progress(data)` to report along the way. */
export function serve(
  handlers: Record<string, (args: never, progress: (d: unknown) => void) => Promise<unknown> | unknown>,
): void {
  const scope = self as unknown as {
    postMessage(m: WorkerReply): void;
    addEventListener(t: 'message', f: (ev: MessageEvent<WorkerRequest>) => void): void;
  };
  scope.addEventListener('message', async (ev) => {
    const { id, type, args } = ev.data;
    const handler = handlers[type];
    try {
      if (!handler) throw new Error(`unknown request '${type}'`);
      const data = await handler(args as never, (d) => scope.postMessage({ id, kind: 'progress', data: d }));
      if (id) scope.postMessage({ id, kind: 'result', data });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      if (id) scope.postMessage({ id, kind: 'error', error: { name: err.name, message: err.message } });
    }
  });
}
