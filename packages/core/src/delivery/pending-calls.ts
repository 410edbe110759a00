// The engine's waits that close() must be able to cut short: exports under a timeout, and retry sleeps.
import type { AuditEvent } from '../event';
import type { BatchSink, ExportResult } from '../sink';

/** Runs exports and sleeps for one sink, and cancels them all at once on close. */
export class PendingCalls {
  private readonly sleeps = new Set<() => void>();
  private readonly controllers = new Set<AbortController>();

  /** One export under a timeout: the signal aborts then. A throw, a rejection or a malformed result counts as retryable. */
  async exportOnce(sink: BatchSink, events: readonly AuditEvent[], timeoutMs: number): Promise<ExportResult> {
    const controller = new AbortController();
    this.controllers.add(controller);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ExportResult>((resolve) => {
      timer = setTimeout(() => {
        const error = new Error(`export timed out after ${timeoutMs} ms`);
        controller.abort(error);
        resolve({ code: 'retryable', error });
      }, timeoutMs);
      timer.unref();
    });
    const call = Promise.resolve()
      .then(() => sink.export(events, controller.signal))
      .then(checkResult, (err: unknown) => ({ code: 'retryable', error: asError(err) }) as const);
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }

  /** Waits `ms` on an unref'd timer; resolves false if cancelAll() cuts it short. */
  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleeps.delete(wake);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.sleeps.delete(wake);
        resolve(true);
      }, ms);
      timer.unref();
      this.sleeps.add(wake);
    });
  }

  /** Wakes every sleep (with false) and aborts every export in flight. */
  cancelAll(reason: Error): void {
    for (const wake of [...this.sleeps]) wake();
    for (const controller of this.controllers) controller.abort(reason);
  }
}

function checkResult(result: unknown): ExportResult {
  const code = (result as ExportResult | undefined)?.code;
  if (code === 'ok') return result as ExportResult;
  if ((code === 'retryable' || code === 'permanent') && (result as { error?: unknown }).error instanceof Error) return result as ExportResult;
  return { code: 'retryable', error: new Error(`export() resolved to ${JSON.stringify(result)}, not an ExportResult`) };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
