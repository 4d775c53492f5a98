/** What the gateway does with requests no OpenStack service would take. */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/gateway/http/dispatch.js';
import { startGateway, type TestGateway } from './harness.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

/** Sends `request` as written on a raw socket and returns the answer's status line. */
function rawStatusLine(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(port), hostname, () => socket.write(request));
    socket.on('data', (chunk) => {
      text += String(chunk);
      if (text.includes('\r\n')) {
        socket.destroy();
        resolve(text.slice(0, text.indexOf('\r\n')));
      }
    });
    socket.on('error', reject);
  });
}

describe('the gateway over HTTP', () => {
  it('answers a request target URL cannot parse with 400, and keeps serving', async () => {
    gw = await startGateway();
    const line = await rawStatusLine(gw.url, 'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(line).toBe('HTTP/1.1 400 Bad Request');
    expect((await gw.call('GET', '/v3')).status).toBe(200);
  });

  it('answers a body over the limit with 413 in the service’s error shape', async () => {
    gw = await startGateway();
    const token = await gw.login('demo');
    const r = await fetch(`${gw.url}/network/v2.0/networks`, {
      method: 'POST',
      headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
      body: 'x'.repeat(MAX_BODY_BYTES + 1024),
    });
    expect(r.status).toBe(413);
    expect(await r.json()).toMatchObject({
      NeutronError: { message: expect.stringMatching(/larger than/) },
    });
  });
});
