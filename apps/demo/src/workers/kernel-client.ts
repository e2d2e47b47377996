import { WorkerClient } from '../rpc.js';

let client: WorkerClient | undefined;

/** The shared kernel worker (one GPU device for the playground and the benchmarks). */
export function kernelWorker(): WorkerClient {
  client ??= new WorkerClient(
    new Worker(new URL('./kernels.worker.ts', import.meta.url), { type: 'module' }),
  );
  return client;
}
