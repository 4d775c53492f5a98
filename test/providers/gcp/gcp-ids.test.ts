import { describe, expect, it } from 'vitest';
import { parseProviderId, requestIdFor, toProviderId } from '../../../src/providers/gcp/gcp-ids.js';
import { GCP_IMAGE_FAMILIES, parseImageRef } from '../../../src/providers/gcp/gcp-images.js';
import { IMAGE_ALIASES } from '../../../src/core/index.js';

describe('request ids', () => {
  it('are version-5 UUIDs, the same for the same name and different for another', () => {
    const a = requestIdFor('create|p|us-central1-a|dc|key|web-0|0');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(requestIdFor('create|p|us-central1-a|dc|key|web-0|0')).toBe(a);
    expect(requestIdFor('create|p|us-central1-a|dc|key|web-0|1')).not.toBe(a);
  });

  it('are never the zero UUID Compute Engine refuses', () => {
    for (let i = 0; i < 1000; i++) expect(requestIdFor(String(i))).not.toMatch(/^[0-]+$/);
  });
});

describe('machine ids', () => {
  it('are <zone>/<name> and read back from any of Google’s forms', () => {
    expect(toProviderId({ zone: 'us-central1-a', name: 'web-0' })).toBe('us-central1-a/web-0');
    for (const form of [
      'us-central1-a/web-0',
      'zones/us-central1-a/instances/web-0',
      'projects/acme/zones/us-central1-a/instances/web-0',
      'https://www.googleapis.com/compute/v1/projects/acme/zones/us-central1-a/instances/web-0',
    ])
      expect(parseProviderId(form), form).toEqual({ zone: 'us-central1-a', name: 'web-0' });
  });

  it('refuse anything else with a ValidationError that shows the expected form', () => {
    for (const bad of ['web-0', 'us-central1/web-0', 'us-central1-a/Web_0', 'i-0123456789abcdef0'])
      expect(() => parseProviderId(bad), bad).toThrow(/expected "<zone>\/<instance-name>"/);
  });
});

describe('images', () => {
  it('have a public image family for every OS alias Google publishes, on both architectures', () => {
    const onGcp = IMAGE_ALIASES.filter((a) => ['ubuntu', 'debian', 'rocky'].includes(a.os)).map(
      (a) => a.alias,
    );
    expect(Object.keys(GCP_IMAGE_FAMILIES).sort()).toEqual(onGcp.sort());
    for (const fams of Object.values(GCP_IMAGE_FAMILIES))
      expect(fams.arm64.family).toMatch(/arm64$/);
  });

  it('read self-links, relative paths, project/family and bare names', () => {
    expect(
      parseImageRef(
        'https://compute.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20240910',
        'mine',
      ),
    ).toEqual({ project: 'debian-cloud', image: 'debian-12-bookworm-v20240910' });
    expect(
      parseImageRef('projects/rocky-linux-cloud/global/images/family/rocky-linux-9', 'mine'),
    ).toEqual({ project: 'rocky-linux-cloud', family: 'rocky-linux-9' });
    expect(parseImageRef('debian-cloud/family/debian-12', 'mine')).toEqual({
      project: 'debian-cloud',
      family: 'debian-12',
    });
    expect(parseImageRef('golden-web-1', 'mine')).toEqual({
      project: 'mine',
      image: 'golden-web-1',
    });
  });

  it('treat a bare word that is no image name as an unknown alias, and a bad path as malformed', () => {
    expect(parseImageRef('no-such-os-1.0', 'mine')).toBeUndefined();
    expect(() => parseImageRef('projects/x/images/y', 'mine')).toThrow(
      /not a Compute Engine image/,
    );
  });
});
