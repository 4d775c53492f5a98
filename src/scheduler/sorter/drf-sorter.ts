import { addInto, subtractInto, zeroScalars, type Scalars } from '../resources/scalars.js';

/**
 * A node of the fairness tree. Roles form the inner nodes (`eng` → `eng/batch`); a
 * role's own frameworks hang under a "group" child of that role, so they compete as
 * one with the role's sub-roles (what Mesos's sorter does with its virtual `.` leaf);
 * frameworks are the "client" leaves.
 */
export class SorterNode<T> {
  readonly kind: 'role' | 'group' | 'client';
  /** Role path for roles and groups; the client's key for clients. */
  readonly name: string;
  readonly parent: SorterNode<T> | undefined;
  /** Sorted by (share, ordinal) ascending whenever the sorter is clean. */
  readonly children: SorterNode<T>[] = [];
  weight = 1;
  /** Everything allocated (offered or used) in this subtree. */
  readonly alloc: Scalars = zeroScalars();
  /** Weighted dominant share: max over resources of alloc/total, divided by weight. */
  share = 0;
  /** Creation order; breaks ties so the order is total and deterministic. */
  readonly ordinal: number;
  /** Active clients in this subtree (a client counts itself when active). */
  activeClients = 0;
  /** Role nodes: the group of the role's own frameworks, made on first use. */
  group: SorterNode<T> | undefined;
  /** Role nodes: all reservations for roles in this subtree. */
  readonly reservedTotal: Scalars = zeroScalars();
  /** Role nodes: the allocated part of {@link reservedTotal}. */
  readonly reservedAlloc: Scalars = zeroScalars();
  /** Role nodes: quota, if any. */
  quota: RoleQuota | undefined;
  /** Client nodes: what the caller attached (a framework). */
  readonly payload: T | undefined;
  /** Groups and clients: the role they belong to. Roles: themselves. */
  readonly role: SorterNode<T>;

  constructor(
    kind: 'role' | 'group' | 'client',
    name: string,
    parent: SorterNode<T> | undefined,
    ordinal: number,
    payload?: T,
  ) {
    this.kind = kind;
    this.name = name;
    this.parent = parent;
    this.ordinal = ordinal;
    this.payload = payload;
    this.role =
      kind === 'role' || parent === undefined ? this : kind === 'group' ? parent : parent.role;
  }

  /** What this subtree counts against quota: allocations plus unallocated reservations. */
  consumedInto(out: Scalars): Scalars {
    out.milliCpus =
      this.alloc.milliCpus + this.reservedTotal.milliCpus - this.reservedAlloc.milliCpus;
    out.memoryMiB =
      this.alloc.memoryMiB + this.reservedTotal.memoryMiB - this.reservedAlloc.memoryMiB;
    out.gpus = this.alloc.gpus + this.reservedTotal.gpus - this.reservedAlloc.gpus;
    out.diskGiB = this.alloc.diskGiB + this.reservedTotal.diskGiB - this.reservedAlloc.diskGiB;
    return out;
  }
}

/** A role's quota: `guarantee` (0 where unset) and `limit` (`Infinity` where unset). */
export interface RoleQuota {
  readonly guarantee: Scalars;
  readonly limit: Scalars;
  readonly hasGuarantee: boolean;
  readonly hasLimit: boolean;
}

function before<T>(a: SorterNode<T>, share: number, ordinal: number): boolean {
  return a.share < share || (a.share === share && a.ordinal < ordinal);
}

/**
 * Hierarchical weighted Dominant Resource Fairness, kept sorted incrementally.
 *
 * A change to one client's allocation re-positions that client and its ancestors
 * (binary search plus one native splice per level), so an allocation pass that hands
 * out thousands of offers never re-sorts from scratch. Only a change of the cluster
 * total or of a weight (which moves every share) marks the tree dirty; it is re-sorted
 * once, lazily, by {@link ensureSorted}.
 *
 * @example
 * ```ts
 * const sorter = new DrfSorter<string>();
 * sorter.setTotal({ milliCpus: 10_000, memoryMiB: 40_960, gpus: 0, diskGiB: 0 });
 * const a = sorter.addClient('eng/batch', 'fw-a');
 * sorter.allocate(a, { milliCpus: 2_000, memoryMiB: 1024, gpus: 0, diskGiB: 0 });
 * sorter.shareOf(a); // 0.2
 * ```
 */
export class DrfSorter<T> {
  readonly root: SorterNode<T>;
  #roles = new Map<string, SorterNode<T>>();
  #total: Scalars = zeroScalars();
  #dirty = false;
  #ordinal = 0;

  constructor() {
    this.root = new SorterNode<T>('role', '', undefined, this.#ordinal++);
  }

  get total(): Readonly<Scalars> {
    return this.#total;
  }

  /** The resources shares are measured against (the cluster's total). */
  setTotal(total: Readonly<Scalars>): void {
    const t = this.#total;
    if (
      t.milliCpus === total.milliCpus &&
      t.memoryMiB === total.memoryMiB &&
      t.gpus === total.gpus &&
      t.diskGiB === total.diskGiB
    )
      return;
    this.#total = { ...total };
    this.#dirty = true;
  }

  /** The role node for `path`, creating it and its ancestors. */
  role(path: string): SorterNode<T> {
    let node = this.#roles.get(path);
    if (node !== undefined) return node;
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? this.root : this.role(path.slice(0, slash));
    node = new SorterNode<T>('role', path, parent, this.#ordinal++);
    this.#insertChild(parent, node);
    this.#roles.set(path, node);
    return node;
  }

  findRole(path: string): SorterNode<T> | undefined {
    return this.#roles.get(path);
  }

  roles(): IterableIterator<SorterNode<T>> {
    return this.#roles.values();
  }

  setWeight(path: string, weight: number): void {
    const node = this.role(path);
    if (node.weight === weight) return;
    node.weight = weight;
    this.#dirty = true;
  }

  /** Adds a client (a framework in one of its roles), inactive until {@link setActive}. */
  addClient(rolePath: string, payload: T, weight = 1): SorterNode<T> {
    const role = this.role(rolePath);
    if (role.group === undefined) {
      role.group = new SorterNode<T>('group', rolePath, role, this.#ordinal++);
      this.#insertChild(role, role.group);
    }
    const client = new SorterNode<T>('client', rolePath, role.group, this.#ordinal++, payload);
    client.weight = weight;
    this.#insertChild(role.group, client);
    return client;
  }

  /** Removes a client; whatever it still had allocated leaves its ancestors too. */
  removeClient(client: SorterNode<T>): void {
    this.setActive(client, false);
    if (
      client.alloc.milliCpus ||
      client.alloc.memoryMiB ||
      client.alloc.gpus ||
      client.alloc.diskGiB
    )
      this.unallocate(client, { ...client.alloc });
    const parent = client.parent!;
    this.#removeChild(parent, client);
  }

  /** Inactive clients (disconnected or suppressed frameworks) are skipped when picking. */
  setActive(client: SorterNode<T>, active: boolean): void {
    const delta = active ? 1 : -1;
    if ((client.activeClients === 1) === active) return;
    for (let n: SorterNode<T> | undefined = client; n !== undefined; n = n.parent)
      n.activeClients += delta;
  }

  allocate(client: SorterNode<T>, s: Readonly<Scalars>): void {
    // One walk up: a node's place among its siblings depends only on its own share.
    for (let n: SorterNode<T> | undefined = client; n !== undefined; n = n.parent) {
      addInto(n.alloc, s);
      this.#reposition(n);
    }
  }

  unallocate(client: SorterNode<T>, s: Readonly<Scalars>): void {
    for (let n: SorterNode<T> | undefined = client; n !== undefined; n = n.parent) {
      subtractInto(n.alloc, s);
      this.#reposition(n);
    }
  }

  /** Reservations for `rolePath` changed by `s` (signed by `sign`). Quota book-keeping only. */
  addReserved(rolePath: string, s: Readonly<Scalars>, sign: 1 | -1): void {
    for (let n: SorterNode<T> | undefined = this.role(rolePath); n !== undefined; n = n.parent)
      if (sign > 0) addInto(n.reservedTotal, s);
      else subtractInto(n.reservedTotal, s);
  }

  /** The allocated part of `rolePath`'s reservations changed. Quota book-keeping only. */
  addReservedAlloc(rolePath: string, s: Readonly<Scalars>, sign: 1 | -1): void {
    for (let n: SorterNode<T> | undefined = this.role(rolePath); n !== undefined; n = n.parent)
      if (sign > 0) addInto(n.reservedAlloc, s);
      else subtractInto(n.reservedAlloc, s);
  }

  /** Weighted dominant share of any node. */
  shareOf(node: SorterNode<T>): number {
    const t = this.#total;
    const a = node.alloc;
    let s = 0;
    if (t.milliCpus > 0) s = Math.max(s, a.milliCpus / t.milliCpus);
    if (t.memoryMiB > 0) s = Math.max(s, a.memoryMiB / t.memoryMiB);
    if (t.gpus > 0) s = Math.max(s, a.gpus / t.gpus);
    if (t.diskGiB > 0) s = Math.max(s, a.diskGiB / t.diskGiB);
    return s / node.weight;
  }

  /** Re-sorts everything if a total or weight changed since the last call. */
  ensureSorted(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#resort(this.root);
  }

  /** Clients in DRF order (the order offers go out), active or not. */
  *clients(node: SorterNode<T> = this.root): Generator<SorterNode<T>> {
    this.ensureSorted();
    for (const child of node.children) {
      if (child.kind === 'client') yield child;
      else yield* this.clients(child);
    }
  }

  #resort(node: SorterNode<T>): void {
    for (const child of node.children) {
      child.share = this.shareOf(child);
      if (child.kind !== 'client') this.#resort(child);
    }
    node.children.sort((a, b) => a.share - b.share || a.ordinal - b.ordinal);
  }

  /** Moves `n` to where its new share sorts it among its siblings. */
  #reposition(n: SorterNode<T>): void {
    const parent = n.parent;
    if (this.#dirty || parent === undefined) return; // dirty: re-sorted wholesale before use
    const share = this.shareOf(n);
    if (share === n.share) return;
    const siblings = parent.children;
    const last = siblings.length - 1;
    if (last === 0) {
      n.share = share; // an only child cannot move
      return;
    }
    const i = this.#indexOf(siblings, n);
    const ordinal = n.ordinal;
    n.share = share;
    // Not among its siblings (removed meanwhile): nothing to move, and splicing at -1
    // would drop the last sibling.
    if (i < 0) return;
    if (i < last && before(siblings[i + 1]!, share, ordinal)) {
      // Moves right (its share grew): the first sibling after it that stays behind it.
      let lo = i + 1;
      let hi = last + 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (before(siblings[mid]!, share, ordinal)) lo = mid + 1;
        else hi = mid;
      }
      // NOTE: shift() is O(1) in V8 (the array is trimmed in place), and a pass mostly
      // moves the front node: it just got an offer, so its share grew past its siblings'.
      if (i === 0) siblings.shift();
      else siblings.splice(i, 1);
      if (lo === last + 1) siblings.push(n);
      else siblings.splice(lo - 1, 0, n);
    } else if (i > 0 && !before(siblings[i - 1]!, share, ordinal)) {
      // Moves left (its share shrank): after the last sibling still ahead of it.
      let lo = 0;
      let hi = i - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (before(siblings[mid]!, share, ordinal)) lo = mid + 1;
        else hi = mid;
      }
      siblings.splice(i, 1);
      siblings.splice(lo, 0, n);
    }
  }

  #insertChild(parent: SorterNode<T>, node: SorterNode<T>): void {
    const list = parent.children;
    if (this.#dirty) {
      list.push(node);
      return;
    }
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(list[mid]!, node.share, node.ordinal)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === list.length) list.push(node);
    else list.splice(lo, 0, node);
  }

  /** Where `node` sits among `list` (binary search on its current key when sorted). */
  #indexOf(list: SorterNode<T>[], node: SorterNode<T>): number {
    if (!this.#dirty) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (before(list[mid]!, node.share, node.ordinal)) lo = mid + 1;
        else hi = mid;
      }
      if (list[lo] === node) return lo;
    }
    return list.indexOf(node);
  }

  #removeChild(parent: SorterNode<T>, node: SorterNode<T>): void {
    const list = parent.children;
    const i = this.#indexOf(list, node);
    if (i === list.length - 1) list.pop();
    else if (i >= 0) list.splice(i, 1);
  }
}
