/**
 * The event listeners of one WebSocket, as the DOM keeps them (WHATWG DOM §2.6 and HTML §8.1.8.1):
 * a list per event type in the order added, each listener at most once, the `on…` handler holding
 * the place where it was first set, a listener removed during a dispatch no longer called, and one
 * added during a dispatch not called by it. One small object of fixed shape, made when the first
 * listener or handler is set, so that an idle socket keeps little: a type's only listener is kept
 * as itself rather than in an array.
 *
 * @module
 */

/**
 * A listener: a function, or an object with `handleEvent`.
 *
 * @example
 * ```ts
 * import type { Listener } from "./_listeners.ts";
 *
 * const listener: Listener = (event) => console.log(event.type);
 * ```
 */
export type Listener = ((event: Event) => void) | { handleEvent(event: Event): void };

/** An `on…` handler. */
type Handler = (event: Event) => void;

/** Where a type's `on…` handler sits among its listeners: one marker shared by every socket. */
const HANDLER_PLACE: Listener = { handleEvent() {} };

/** A type's listeners: none, one, or several in order (a new array on every change). */
type Slot = Listener | readonly Listener[] | undefined;

/** The original listener of each `once` wrapper, for removal. */
const onceOriginals = new WeakMap<Listener, Listener>();

/**
 * The listeners and handlers of the four WebSocket event types in fields, any other type's in a
 * map made when first needed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ListenerRegistry } from "./_listeners.ts";
 *
 * const calls: string[] = [];
 * const registry = new ListenerRegistry();
 * registry.add("message", () => calls.push("listener"), false);
 * registry.setHandler("message", () => calls.push("handler"));
 * registry.dispatch(new Event("message"));
 * assert.deepEqual(calls, ["listener", "handler"]);
 * ```
 */
export class ListenerRegistry {
  open: Slot = undefined;
  message: Slot = undefined;
  error: Slot = undefined;
  close: Slot = undefined;
  onopen: Handler | null = null;
  onmessage: Handler | null = null;
  onerror: Handler | null = null;
  onclose: Handler | null = null;
  other: Map<string, Slot> | null = null;

  /**
   * Adds a listener, unless it is there already.
   * @param type The event type.
   * @param listener The listener.
   * @param once Whether it is removed when first called.
   */
  add(type: string, listener: Listener, once: boolean): void {
    const slot = this.#slot(type);
    if (listed(slot, listener)) return;
    const entry: Listener = once
      ? (event: Event) => {
        this.remove(type, entry);
        call(listener, event);
      }
      : listener;
    if (once) onceOriginals.set(entry, listener);
    this.#setSlot(type, slot === undefined ? entry : [...asList(slot), entry]);
  }

  /**
   * Removes a listener (or the `once` wrapper made for it).
   * @param type The event type.
   * @param listener The listener given to {@link add}.
   */
  remove(type: string, listener: Listener): void {
    const list = asList(this.#slot(type));
    const index = list.findIndex((entry) => entry === listener || onceOriginals.get(entry) === listener);
    if (index === -1) return;
    const rest = [...list.slice(0, index), ...list.slice(index + 1)];
    this.#setSlot(type, rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : rest);
  }

  /**
   * The `on…` handler of a type.
   * @param type `open`, `message`, `error` or `close`.
   * @returns The handler, or `null`.
   */
  handler(type: "open" | "message" | "error" | "close"): Handler | null {
    switch (type) {
      case "open":
        return this.onopen;
      case "message":
        return this.onmessage;
      case "error":
        return this.onerror;
      case "close":
        return this.onclose;
    }
  }

  /**
   * Sets the `on…` handler of a type: it takes a place among the listeners when first set, keeps
   * it while changed, and gives it up when set to `null`.
   * @param type `open`, `message`, `error` or `close`.
   * @param handler The handler; not a function means `null`.
   */
  setHandler(type: "open" | "message" | "error" | "close", handler: unknown): void {
    const value = typeof handler === "function" ? handler as Handler : null;
    const had = this.handler(type) !== null;
    this[`on${type}`] = value;
    if (value === null && had) this.remove(type, HANDLER_PLACE);
    if (value !== null && !had) this.add(type, HANDLER_PLACE, false);
  }

  /**
   * Calls the listeners of the event's type, in order: those there when it began and not removed since.
   * @param event The event.
   */
  dispatch(event: Event): void {
    const type = event.type;
    const slot = this.#slot(type);
    if (slot === undefined) return;
    if (!Array.isArray(slot)) return this.#call(type, slot as Listener, event);
    const list = slot as readonly Listener[];
    for (let i = 0; i < list.length; i++) {
      if (i === 0 || listed(this.#slot(type), list[i])) this.#call(type, list[i], event);
    }
  }

  #call(type: string, listener: Listener, event: Event): void {
    if (listener !== HANDLER_PLACE) return call(listener, event);
    const handler = this.handler(type as "open");
    if (handler !== null) call(handler, event);
  }

  #slot(type: string): Slot {
    switch (type) {
      case "open":
        return this.open;
      case "message":
        return this.message;
      case "error":
        return this.error;
      case "close":
        return this.close;
      default:
        return this.other?.get(type);
    }
  }

  #setSlot(type: string, slot: Slot): void {
    switch (type) {
      case "open":
        this.open = slot;
        return;
      case "message":
        this.message = slot;
        return;
      case "error":
        this.error = slot;
        return;
      case "close":
        this.close = slot;
        return;
      default:
        if (slot === undefined) this.other?.delete(type);
        else (this.other ??= new Map()).set(type, slot);
    }
  }
}

function asList(slot: Slot): readonly Listener[] {
  if (slot === undefined) return [];
  return Array.isArray(slot) ? slot as readonly Listener[] : [slot as Listener];
}

/** Whether the listener (or a `once` wrapper made for it) is in the slot. */
function listed(slot: Slot, listener: Listener): boolean {
  if (slot === undefined) return false;
  if (!Array.isArray(slot)) return slot === listener || onceOriginals.get(slot as Listener) === listener;
  return (slot as readonly Listener[]).some((entry) =>
    entry === listener || onceOriginals.get(entry) === listener
  );
}

function call(listener: Listener, event: Event): void {
  try {
    if (typeof listener === "function") listener(event);
    else listener.handleEvent(event);
  } catch (error) {
    console.error(`h1serve: a WebSocket ${event.type} listener failed:`, error);
  }
}
