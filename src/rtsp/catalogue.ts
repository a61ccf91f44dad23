/**
 * The stream catalogue (live555's fServerMediaSessions table): stream name → the media stream that answers to it.
 * Removal checks identity, so a stream removed from its name (onBusyPath=replace) cannot take its successor down.
 */
import type { SessionDescription } from './protocol/index.js';
import { MediaStream, type FanoutOptions, type StreamOwner } from './stream.js';

/** The stream catalogue: name → stream (live555's fServerMediaSessions). Removal checks identity. */
export class StreamCatalogue implements StreamOwner {
  private readonly byName = new Map<string, MediaStream>();

  constructor(private readonly fanout: FanoutOptions = {}) {}

  get size(): number {
    return this.byName.size;
  }

  lookup(name: string): MediaStream | undefined {
    return this.byName.get(name);
  }

  /** Creates and lists a stream at time `now` (ms); the caller has made sure the name is free (see remove()). */
  create(name: string, sdp: SessionDescription, now: number): MediaStream {
    const prev = this.byName.get(name);
    if (prev) throw new Error(`stream ${name} already exists`);
    const s = new MediaStream(name, sdp, this, { ...this.fanout, createdAt: now });
    this.byName.set(name, s);
    return s;
  }

  forget(stream: MediaStream): void {
    if (this.byName.get(stream.name) === stream) this.byName.delete(stream.name);
  }

  all(): MediaStream[] {
    return [...this.byName.values()];
  }
}
