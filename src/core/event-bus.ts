/**
 * Session events for whoever watches (metrics, webhooks, status reports, the dashboard). Each listener runs on its
 * own: one that throws, or whose promise rejects, is logged and the others still get the event (Node's
 * EventEmitter stops at the first listener that throws).
 */
import type { Logger } from '../log.js';
import type { SessionEvent } from './types.js';

export type EventListener = (e: SessionEvent) => void | Promise<void>;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly log: Logger) {}

  /** Subscribe; returns the unsubscribe function. */
  on(fn: EventListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(e: SessionEvent): void {
    for (const fn of this.listeners) {
      try {
        const r = fn(e);
        if (r instanceof Promise) r.catch((err: unknown) => this.log.error({ err, event: e.type }, 'session event listener failed'));
      } catch (err) {
        this.log.error({ err, event: e.type }, 'session event listener failed');
      }
    }
  }
}
