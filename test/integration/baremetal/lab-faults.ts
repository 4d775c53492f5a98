/**
 * Faults for the contract suite on the real Ironic, injected where they happen in
 * life: in front of the API (a proxy's 429 and 503), on the wire (a connection that
 * drops after the server acted), and in the cloud itself (every candidate node taken
 * out of service between kumo's look at the inventory and its claim).
 */
import type { ContractFaults } from '../../contract/provider-contract.js';
import type { FetchLike } from '../../../src/clients/openstack/http.js';
import type { IronicClient } from '../../../src/clients/openstack/ironic-client.js';

const PROXY_429 =
  '<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n';
const PROXY_503 =
  '<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n';

function isCreate(method: string, path: string, body: unknown): boolean {
  if (method === 'POST' && path === '/v1/allocations') return true;
  // The reserve claim: a PATCH that sets instance_uuid.
  return (
    method === 'PATCH' &&
    /^\/v1\/nodes\/[^/]+$/.test(path) &&
    typeof body === 'string' &&
    body.includes('"/instance_uuid"')
  );
}

export class LabFaults implements ContractFaults {
  #throttle = 0;
  #transient = 0;
  #dropAfterCreate = false;
  #capacity = false;
  /** Faults served so far, by kind. */
  readonly served = { throttle: 0, transient: 0, dropAfterCreate: 0, capacity: 0 };

  constructor(
    readonly ironic: IronicClient,
    readonly inner: FetchLike = (url, init) => fetch(url, init),
  ) {}

  timeoutAfterCreate(): void {
    this.#dropAfterCreate = true;
  }
  throttle(n: number): void {
    this.#throttle += n;
  }
  transient(n: number): void {
    this.#transient += n;
  }
  capacity(): void {
    this.#capacity = true;
  }

  readonly fetch: FetchLike = async (url, init) => {
    const method = init.method ?? 'GET';
    const path = new URL(url).pathname;
    if (this.#throttle > 0) {
      this.#throttle -= 1;
      this.served.throttle += 1;
      return new Response(PROXY_429, {
        status: 429,
        headers: { 'Retry-After': '1', 'Content-Type': 'text/html' },
      });
    }
    if (this.#transient > 0) {
      this.#transient -= 1;
      this.served.transient += 1;
      return new Response(PROXY_503, { status: 503, headers: { 'Content-Type': 'text/html' } });
    }
    if (this.#capacity && method === 'POST' && path === '/v1/allocations') {
      this.#capacity = false;
      this.served.capacity += 1;
      return this.#withCandidatesGone(url, init);
    }
    if (this.#dropAfterCreate && isCreate(method, path, init.body)) {
      this.#dropAfterCreate = false;
      this.served.dropAfterCreate += 1;
      const response = await this.inner(url, init);
      await response.arrayBuffer();
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      });
    }
    return this.inner(url, init);
  };

  /**
   * Another operator puts every candidate node into maintenance just before the claim
   * reaches Ironic, and takes them out once Ironic has failed it: the allocation fails
   * for real, with Ironic's own message.
   */
  async #withCandidatesGone(url: string, init: RequestInit): Promise<Response> {
    const body = JSON.parse(typeof init.body === 'string' ? init.body : '{}') as {
      candidate_nodes?: string[];
    };
    const nodes = body.candidate_nodes ?? [];
    await Promise.all(
      nodes.map((n) => this.ironic.setMaintenance(n, true, 'kumo contract test: capacity fault')),
    );
    try {
      const response = await this.inner(url, init);
      const text = await response.text();
      if (response.ok) {
        const { uuid } = JSON.parse(text) as { uuid: string };
        for (let i = 0; i < 100; i++) {
          const allocation = await this.ironic.getAllocation(uuid);
          if (allocation.state !== 'allocating') break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      return new Response(text, { status: response.status, headers: response.headers });
    } finally {
      await Promise.all(nodes.map((n) => this.ironic.setMaintenance(n, false)));
    }
  }
}
