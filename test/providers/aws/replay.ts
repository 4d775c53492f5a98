/**
 * Replays recorded EC2 responses (the files in ./fixtures, one per response) to the
 * official SDK through nock, in the order each action asks for them, and keeps every
 * request body so tests can check what was sent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';

export interface Reply {
  readonly fixture: string;
  readonly status?: number;
}

export interface Replay {
  /** Request bodies by action, in order. */
  readonly sent: Map<string, URLSearchParams[]>;
  /** Replies not yet used, by action. */
  left(): Record<string, number>;
  stop(): void;
}

export function fixture(name: string): string {
  return readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
}

export function replay(
  script: Record<string, readonly Reply[]>,
  endpoint = 'https://ec2.us-east-1.amazonaws.com',
): Replay {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const queues = new Map(Object.entries(script).map(([action, replies]) => [action, [...replies]]));
  const sent = new Map<string, URLSearchParams[]>();
  const interceptor = nock(endpoint).persist().post('/');
  interceptor.reply((_uri, body) => {
    const params = new URLSearchParams(typeof body === 'string' ? body : '');
    const action = params.get('Action') ?? '';
    sent.set(action, [...(sent.get(action) ?? []), params]);
    const next = queues.get(action)?.shift();
    if (next === undefined)
      return [
        500,
        `<Response><Errors><Error><Code>NoFixture</Code><Message>no fixture left for ${action}</Message></Error></Errors><RequestID>none</RequestID></Response>`,
      ];
    return [
      next.status ?? 200,
      fixture(next.fixture),
      { 'content-type': 'text/xml;charset=UTF-8' },
    ];
  });
  return {
    sent,
    left: () =>
      Object.fromEntries(
        [...queues].filter(([, q]) => q.length > 0).map(([a, q]) => [a, q.length]),
      ),
    stop: () => nock.removeInterceptor(interceptor),
  };
}
