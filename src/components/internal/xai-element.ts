/** The base of every component: typed, bubbling, composed events (shoelace's `emit`). */
import { LitElement } from 'lit';
import type { XaiEventMap } from '../events.js';

export class XaiElement extends LitElement {
  /** Dispatches `name` with `detail`; it bubbles and crosses shadow roots. */
  protected emit<K extends keyof XaiEventMap>(name: K, detail: XaiEventMap[K]): CustomEvent<XaiEventMap[K]> {
    const event = new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable: false });
    this.dispatchEvent(event);
    return event;
  }

  /** Reports an error as an `xai-error` event and returns its message for display. */
  protected reportError(error: unknown, phase: XaiEventMap['xai-error']['phase']): string {
    const message = errorMessage(error);
    this.emit('xai-error', { error, phase, message });
    return message;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
