import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway, type Json } from './harness.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('Glance v2 images', () => {
  it('answers the root with 300 and the v2 versions', async () => {
    gw = await startGateway();
    const res = await gw.call('GET', '/image/');
    expect(res.status).toBe(300);
    expect(res.body.versions[0]).toEqual({
      id: 'v2.15',
      status: 'CURRENT',
      links: [{ rel: 'self', href: `${gw.url}/image/v2/` }],
    });
  });

  it('lists kumo’s image aliases as active public images', async () => {
    gw = await startGateway();
    const token = await gw.login();
    const res = await gw.call('GET', '/image/v2/images', { token });
    expect(res.body.images.map((i: Json) => i.name)).toEqual(
      expect.arrayContaining(['ubuntu-22.04', 'debian-12']),
    );
    expect(res.body.images[0]).toMatchObject({
      status: 'active',
      visibility: 'public',
      self: `/v2/images/${res.body.images[0].id}`,
      kumo_providers: 'cloud,onprem',
    });
    expect(res.body).toMatchObject({ first: '/v2/images', schema: '/v2/schemas/images' });
  });

  it('shows an image by id and answers 404 for an unknown one', async () => {
    gw = await startGateway();
    const token = await gw.login();
    const [image] = (await gw.call('GET', '/image/v2/images?name=debian-12', { token })).body
      .images;
    expect((await gw.call('GET', `/image/v2/images/${image.id}`, { token })).body).toMatchObject({
      id: image.id,
      name: 'debian-12',
      os_distro: 'debian',
      os_version: '12',
    });
    const missing = await gw.call('GET', '/image/v2/images/debian-12', { token });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      code: '404 Not Found',
      title: 'Not Found',
      message: 'No image found with ID debian-12',
    });
  });

  it('pages with limit, marker and next links that together give the whole list', async () => {
    gw = await startGateway();
    const token = await gw.login();
    const all = (await gw.call('GET', '/image/v2/images', { token })).body.images.map(
      (i: Json) => i.id,
    );
    const paged: string[] = [];
    let next: string | undefined = '/v2/images?limit=3';
    while (next !== undefined) {
      const page: Json = await gw.call('GET', `/image${next}`, { token });
      expect(page.body.images.length).toBeLessThanOrEqual(3);
      paged.push(...page.body.images.map((i: Json) => i.id));
      next = page.body.next;
    }
    expect(paged).toEqual(all);
  });
});
