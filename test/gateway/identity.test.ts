import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { passwordAuth, PASSWORDS, startGateway, type TestGateway, type Json } from './harness.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('Keystone v3 discovery', () => {
  it('answers the root with 300 Multiple Choices listing v3.14', async () => {
    gw = await startGateway();
    const res = await gw.call('GET', '/');
    expect(res.status).toBe(300);
    expect(res.body.versions.values[0]).toMatchObject({
      id: 'v3.14',
      status: 'stable',
      links: [{ rel: 'self', href: `${gw.url}/v3/` }],
    });
  });

  it('describes v3 at /v3 without a token', async () => {
    gw = await startGateway();
    const res = await gw.call('GET', '/v3');
    expect(res.status).toBe(200);
    expect(res.body.version['media-types']).toEqual([
      { base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' },
    ]);
  });
});

describe('password authentication', () => {
  it('issues a project-scoped token in X-Subject-Token with a catalog pointing at the gateway', async () => {
    gw = await startGateway();
    const res = await gw.call('POST', '/v3/auth/tokens', {
      body: passwordAuth('demo', PASSWORDS.demo, 'demo'),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-subject-token')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const token = res.body.token;
    expect(token.project).toMatchObject({
      name: 'demo',
      domain: { id: 'default', name: 'Default' },
    });
    expect(token.user).toMatchObject({ name: 'demo', domain: { id: 'default', name: 'Default' } });
    expect(token.roles).toEqual([expect.objectContaining({ name: 'member' })]);
    expect(token.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const urls = Object.fromEntries(
      token.catalog.map((s: Json) => [
        s.type,
        s.endpoints.find((e: Json) => e.interface === 'public').url,
      ]),
    );
    expect(urls).toEqual({
      identity: `${gw.url}/v3`,
      compute: `${gw.url}/compute/v2.1`,
      network: `${gw.url}/network`,
      image: `${gw.url}/image`,
    });
  });

  it('leaves the catalog out when asked with ?nocatalog', async () => {
    gw = await startGateway();
    const res = await gw.call('POST', '/v3/auth/tokens?nocatalog', {
      body: passwordAuth('demo', PASSWORDS.demo, 'demo'),
    });
    expect(res.status).toBe(201);
    expect(res.body.token.catalog).toBeUndefined();
  });

  it('issues an unscoped token without roles or catalog when no scope is given', async () => {
    gw = await startGateway();
    const res = await gw.call('POST', '/v3/auth/tokens', {
      body: passwordAuth('demo', PASSWORDS.demo),
    });
    expect(res.status).toBe(201);
    expect(res.body.token.project).toBeUndefined();
    expect(res.body.token.catalog).toBeUndefined();
  });

  it('refuses a wrong password with Keystone’s 401 body and WWW-Authenticate', async () => {
    gw = await startGateway();
    const res = await gw.call('POST', '/v3/auth/tokens', {
      body: passwordAuth('demo', 'wrong', 'demo'),
    });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: {
        code: 401,
        title: 'Unauthorized',
        message: 'The request you have made requires authentication.',
      },
    });
    expect(res.headers.get('www-authenticate')).toBe(`Keystone uri="${gw.url}/v3"`);
  });

  it('answers an unknown user exactly as a wrong password', async () => {
    gw = await startGateway();
    const wrong = await gw.call('POST', '/v3/auth/tokens', {
      body: passwordAuth('demo', 'wrong', 'demo'),
    });
    const unknown = await gw.call('POST', '/v3/auth/tokens', {
      body: passwordAuth('nobody', 'wrong', 'demo'),
    });
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toEqual(wrong.body);
  });

  it('refuses a project the user is not a member of', async () => {
    gw = await startGateway();
    const res = await gw.call('POST', '/v3/auth/tokens', {
      body: passwordAuth('demo', PASSWORDS.demo, 'other'),
    });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/has no access to project other/);
  });

  it('refuses a body that is not JSON with a 400 in Keystone’s shape', async () => {
    gw = await startGateway();
    const res = await gw.call('POST', '/v3/auth/tokens', { body: '{not json' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 400, title: 'Bad Request' });
  });

  it('throttles a user after repeated failures, even for the right password, with Retry-After', async () => {
    gw = await startGateway();
    for (let i = 0; i < 3; i++)
      expect(
        (
          await gw.call('POST', '/v3/auth/tokens', {
            body: passwordAuth('demo', `guess-${i}`, 'demo'),
          })
        ).status,
      ).toBe(401);
    const locked = await gw.call('POST', '/v3/auth/tokens', {
      body: passwordAuth('demo', PASSWORDS.demo, 'demo'),
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(locked.body.error.message).toMatch(/Too many failed logins/);
  });

  it('counts failures against the user the login resolves to, whatever name is sent beside its id', async () => {
    gw = await startGateway();
    const ok = await gw.call('POST', '/v3/auth/tokens', {
      body: passwordAuth('demo', PASSWORDS.demo, 'demo'),
    });
    const id: string = ok.body.token.user.id;
    const byId = (name: string, password: string) => ({
      auth: { identity: { methods: ['password'], password: { user: { id, name, password } } } },
    });
    for (let i = 0; i < 3; i++)
      expect(
        (await gw.call('POST', '/v3/auth/tokens', { body: byId(`junk-${i}`, `guess-${i}`) }))
          .status,
      ).toBe(401);
    expect(
      (await gw.call('POST', '/v3/auth/tokens', { body: passwordAuth('demo', PASSWORDS.demo) }))
        .status,
    ).toBe(429);
  });

  it('lets the user in again once the lockout has passed', async () => {
    const clock = new VirtualClock({ start: Date.parse('2026-01-01T00:00:00Z') });
    gw = await startGateway({ clock });
    for (let i = 0; i < 3; i++)
      await gw.call('POST', '/v3/auth/tokens', {
        body: passwordAuth('demo', `guess-${i}`, 'demo'),
      });
    await clock.advance(31_000);
    expect(
      (
        await gw.call('POST', '/v3/auth/tokens', {
          body: passwordAuth('demo', PASSWORDS.demo, 'demo'),
        })
      ).status,
    ).toBe(201);
  });
});

describe('tokens', () => {
  it('validates a token with GET, returning its body and X-Subject-Token', async () => {
    gw = await startGateway();
    const token = await gw.login();
    const res = await gw.call('GET', '/v3/auth/tokens', {
      token,
      headers: { 'X-Subject-Token': token },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-subject-token')).toBe(token);
    expect(res.body.token.project.name).toBe('demo');
  });

  it('checks a token with HEAD', async () => {
    gw = await startGateway();
    const token = await gw.login();
    expect(
      (await gw.call('HEAD', '/v3/auth/tokens', { token, headers: { 'X-Subject-Token': token } }))
        .status,
    ).toBe(200);
  });

  it('answers 404 for validating a token that does not exist', async () => {
    gw = await startGateway();
    const token = await gw.login();
    expect(
      (
        await gw.call('GET', '/v3/auth/tokens', {
          token,
          headers: { 'X-Subject-Token': 'not-a-token' },
        })
      ).status,
    ).toBe(404);
  });

  it('forbids validating another user’s token', async () => {
    gw = await startGateway();
    const mine = await gw.login('demo');
    const theirs = await gw.login('other');
    expect(
      (
        await gw.call('GET', '/v3/auth/tokens', {
          token: mine,
          headers: { 'X-Subject-Token': theirs },
        })
      ).status,
    ).toBe(403);
  });

  it('revokes a token with DELETE, after which it is refused everywhere', async () => {
    gw = await startGateway();
    const token = await gw.login();
    expect(
      (await gw.call('DELETE', '/v3/auth/tokens', { token, headers: { 'X-Subject-Token': token } }))
        .status,
    ).toBe(204);
    const after = await gw.call('GET', '/compute/v2.1/servers', { token });
    expect(after.status).toBe(401);
    expect(after.body).toEqual({
      error: {
        code: 401,
        title: 'Unauthorized',
        message: 'The request you have made requires authentication.',
      },
    });
  });

  it('refuses an expired token at the services and for rescoping', async () => {
    const clock = new VirtualClock({ start: Date.parse('2026-01-01T00:00:00Z') });
    gw = await startGateway({ clock, spec: { tokenTtlSeconds: 60 } });
    const token = await gw.login();
    expect((await gw.call('GET', '/network/v2.0/networks', { token })).status).toBe(200);
    await clock.advance(61_000);
    expect((await gw.call('GET', '/network/v2.0/networks', { token })).status).toBe(401);
    const rescope = await gw.call('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['token'], token: { id: token } },
          scope: { project: { name: 'demo', domain: { name: 'Default' } } },
        },
      },
    });
    expect(rescope.status).toBe(401);
  });

  it('makes a token from a token that never outlives it', async () => {
    const clock = new VirtualClock({ start: Date.parse('2026-01-01T00:00:00Z') });
    gw = await startGateway({ clock, spec: { tokenTtlSeconds: 60 } });
    const first = await gw.call('POST', '/v3/auth/tokens', {
      body: passwordAuth('demo', PASSWORDS.demo),
    });
    await clock.advance(30_000);
    const second = await gw.call('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['token'], token: { id: first.headers.get('x-subject-token') } },
          scope: { project: { name: 'demo', domain: { name: 'Default' } } },
        },
      },
    });
    expect(second.status).toBe(201);
    expect(second.body.token.project.name).toBe('demo');
    expect(second.body.token.expires_at).toBe(first.body.token.expires_at);
    expect(second.body.token.audit_ids[1]).toBe(first.body.token.audit_ids[0]);
  });

  it('needs a token for everything but discovery and token creation', async () => {
    gw = await startGateway();
    for (const path of [
      '/compute/v2.1/servers',
      '/compute/v2.1/flavors',
      '/network/v2.0/networks',
      '/image/v2/images',
      '/v3/auth/catalog',
    ])
      expect((await gw.call('GET', path)).status, path).toBe(401);
    for (const path of ['/', '/v3', '/compute/', '/compute/v2.1', '/network/', '/image/'])
      expect((await gw.call('GET', path)).status, path).toBeLessThan(400);
  });

  it('lists the projects a token’s user may scope to', async () => {
    gw = await startGateway();
    const res = await gw.call('GET', '/v3/auth/projects', { token: await gw.login() });
    expect(res.body.projects.map((p: Json) => p.name)).toEqual(['demo']);
  });
});
