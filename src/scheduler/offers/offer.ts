import type { Resources } from '../../core/index.js';
import type { Agent } from '../agents/agent.js';
import type { AgentAttributes } from '../agents/agent-schemas.js';
import type { PortRange, PortSet } from '../resources/ports.js';
import type { Scalars } from '../resources/scalars.js';
import type { SorterNode } from '../sorter/drf-sorter.js';

/**
 * Resources of one agent offered to one framework, for one of its roles. Accept it
 * (launch tasks, reserve, unreserve) or decline it; until then nobody else is offered
 * these resources. It may be rescinded (timeout, agent drained or lost).
 */
export interface Offer {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly hostname: string;
  /** The role the resources are allocated to. */
  readonly role: string;
  /** Everything offered, the reserved part included. */
  readonly resources: Readonly<Resources>;
  readonly ports: readonly PortRange[];
  /** The part of `resources` reserved for `role`. */
  readonly reserved: Readonly<Resources>;
  readonly attributes: Readonly<AgentAttributes>;
  readonly createdAt: number;
  /** When it will be rescinded if still outstanding; undefined when offers never time out. */
  readonly expiresAt: number | undefined;
}

/**
 * Notice that an agent is going into maintenance (Mesos's inverse offer): finish or
 * move the tasks you have there before `deadline`, when they are killed.
 */
export interface InverseOffer {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly hostname: string;
  /** When remaining tasks are killed; undefined when the drain waits for them. */
  readonly deadline: number | undefined;
  readonly createdAt: number;
}

/** Why an offer was taken back. */
export type RescindReason = 'timeout' | 'agent-draining' | 'agent-gone' | 'agent-updated';

/** The scheduler's record of an outstanding offer. */
export class OfferRecord<F> {
  live = true;
  /** `o<seq>`, what frameworks see. */
  readonly id: string;
  constructor(
    /** Unique and increasing; the offer book's key. */
    readonly seq: number,
    readonly framework: F,
    readonly client: SorterNode<F>,
    readonly agent: Agent,
    readonly unreserved: Scalars,
    readonly reserved: Scalars,
    readonly ports: PortSet,
    readonly expiresAt: number,
    readonly view: Offer,
  ) {
    this.id = view.id;
  }
}

/** An offer id as the scheduler writes it. */
export function offerId(seq: number): string {
  return `o${seq}`;
}

/**
 * The sequence number in an id written by {@link offerId}, or -1. The book then checks
 * the id in full, so odd spellings (`o007`) never match.
 */
function seqOf(id: string): number {
  const len = id.length;
  if (len < 2 || len > 16 || id.charCodeAt(0) !== 111 /* o */) return -1;
  let n = 0;
  for (let i = 1; i < len; i++) {
    const digit = id.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/**
 * Outstanding offers by id, plus a queue in expiry order. Offers are made with one
 * timeout at non-decreasing times, so the queue is FIFO and one timer for its head is
 * enough, however many offers are out.
 */
export class OfferBook<F> {
  // NOTE: keyed by number, not by id: integer keys hash faster, and a pass adds one per agent.
  #bySeq = new Map<number, OfferRecord<F>>();
  #queue: OfferRecord<F>[] = [];
  #head = 0;

  get size(): number {
    return this.#bySeq.size;
  }

  add(offer: OfferRecord<F>): void {
    this.#bySeq.set(offer.seq, offer);
    if (offer.expiresAt !== Infinity) this.#queue.push(offer);
  }

  get(id: string): OfferRecord<F> | undefined {
    const offer = this.#bySeq.get(seqOf(id));
    return offer !== undefined && offer.id === id ? offer : undefined;
  }

  delete(offer: OfferRecord<F>): void {
    offer.live = false;
    this.#bySeq.delete(offer.seq);
  }

  values(): IterableIterator<OfferRecord<F>> {
    return this.#bySeq.values();
  }

  /** The earliest expiry among live offers, dropping dead ones from the front. */
  nextExpiry(): number | undefined {
    while (this.#head < this.#queue.length && !this.#queue[this.#head]!.live) this.#head++;
    this.#compact();
    return this.#head < this.#queue.length ? this.#queue[this.#head]!.expiresAt : undefined;
  }

  /** Removes and returns live offers that expired by `now`. */
  takeExpired(now: number): OfferRecord<F>[] {
    const out: OfferRecord<F>[] = [];
    while (this.#head < this.#queue.length) {
      const o = this.#queue[this.#head]!;
      if (o.live && o.expiresAt > now) break;
      this.#head++;
      if (o.live) out.push(o);
    }
    this.#compact();
    return out;
  }

  #compact(): void {
    if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
