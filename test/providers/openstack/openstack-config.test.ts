import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/core/index.js';
import {
  cloudsYamlSearchPath,
  resolveOpenStackConfig,
} from '../../../src/providers/openstack/index.js';

const CLOUDS = `clouds:
  mycloud:
    auth:
      auth_url: https://keystone.example.com:5000/v3
      username: alice
      password: from-clouds-yaml
      project_name: web
      user_domain_name: Default
      project_domain_id: default
    region_name: RegionTwo
    interface: internal
    compute_endpoint_override: https://nova.example.com/v2.1
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.example.com:5000
      application_credential_id: 0123abcd
      application_credential_secret: s3cret-app
    verify: false
`;

function dir(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kumo-os-config-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('openstack configuration', () => {
  it('reads the OS_* variables when no cloud is named', () => {
    const config = resolveOpenStackConfig(
      {},
      {
        env: {
          OS_AUTH_URL: 'https://k.example.com/v3',
          OS_USERNAME: 'bob',
          OS_PASSWORD: 'pw',
          OS_PROJECT_NAME: 'p',
          OS_USER_DOMAIN_NAME: 'Default',
          OS_PROJECT_DOMAIN_NAME: 'Default',
          OS_REGION_NAME: 'R1',
          OS_INTERFACE: 'internalURL',
        },
      },
    );
    expect(config.auth).toMatchObject({
      authUrl: 'https://k.example.com/v3',
      username: 'bob',
      projectName: 'p',
    });
    expect(config.region).toBe('R1');
    expect(config.interface).toBe('internal');
    expect(config.authType).toBe('password');
    expect(config.source).toBe('OS_* environment');
  });

  it('finds clouds.yaml in the user config dir and picks the cloud named by OS_CLOUD', () => {
    const home = dir({ '.config/openstack/clouds.yaml': CLOUDS });
    const config = resolveOpenStackConfig(
      {},
      { env: { HOME: home, OS_CLOUD: 'mycloud' }, cwd: join(home, 'nowhere') },
    );
    expect(config.auth).toMatchObject({
      username: 'alice',
      projectName: 'web',
      projectDomainId: 'default',
    });
    expect(config.region).toBe('RegionTwo');
    expect(config.interface).toBe('internal');
    expect(config.endpointOverrides).toEqual({ compute: 'https://nova.example.com/v2.1' });
    expect(config.source).toContain(join(home, '.config/openstack/clouds.yaml'));
  });

  it('searches the current directory first, then the user and system config dirs', () => {
    const paths = cloudsYamlSearchPath({ HOME: '/home/u' }, '/work');
    expect(paths[0]).toBe('/work/clouds.yaml');
    expect(paths).toContain('/home/u/.config/openstack/clouds.yaml');
    expect(paths.at(-2)).toBe('/etc/openstack/clouds.yaml');
  });

  it('merges secrets from secure.yaml beside clouds.yaml', () => {
    const cwd = dir({
      'clouds.yaml': CLOUDS.replace('      password: from-clouds-yaml\n', ''),
      'secure.yaml': 'clouds:\n  mycloud:\n    auth:\n      password: from-secure-yaml\n',
    });
    const config = resolveOpenStackConfig({ cloud: 'mycloud' }, { env: { HOME: cwd }, cwd });
    expect(config.auth.password).toBe('from-secure-yaml');
  });

  it('takes application credentials and verify: false from clouds.yaml', () => {
    const cwd = dir({ 'clouds.yaml': CLOUDS });
    const config = resolveOpenStackConfig({ cloud: 'appcred' }, { env: { HOME: cwd }, cwd });
    expect(config.authType).toBe('applicationCredential');
    expect(config.auth).toMatchObject({
      applicationCredentialId: '0123abcd',
      applicationCredentialSecret: 's3cret-app',
    });
    expect(config.insecure).toBe(true);
  });

  it('lets explicit options override clouds.yaml', () => {
    const cwd = dir({ 'clouds.yaml': CLOUDS });
    const config = resolveOpenStackConfig(
      { cloud: 'mycloud', region: 'RegionOne', auth: { projectName: 'other' } },
      { env: { HOME: cwd }, cwd },
    );
    expect(config.region).toBe('RegionOne');
    expect(config.auth.projectName).toBe('other');
    expect(config.auth.username).toBe('alice');
  });

  it('names every missing field and where to set it, without echoing secrets', () => {
    let caught: unknown;
    try {
      resolveOpenStackConfig({}, { env: { OS_PASSWORD: 'hunter2-secret' } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const err = caught as ValidationError;
    expect(err.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['auth.authUrl', 'auth.username']),
    );
    expect(err.message).toContain('OS_AUTH_URL');
    expect(JSON.stringify(err.toJSON())).not.toContain('hunter2-secret');
  });

  it('says which cloud is missing and which clouds the file has', () => {
    const cwd = dir({ 'clouds.yaml': CLOUDS });
    expect(() => resolveOpenStackConfig({ cloud: 'nope' }, { env: { HOME: cwd }, cwd })).toThrow(
      /cloud "nope" is not in .*clouds\.yaml \(it has: mycloud, appcred\)/,
    );
  });

  it('refuses a cacert that does not exist, naming the field', () => {
    expect(() =>
      resolveOpenStackConfig(
        { cacert: '/no/such/ca.pem' },
        { env: { OS_AUTH_URL: 'https://k/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p' } },
      ),
    ).toThrow(/cacert: no such file/);
  });

  it('rejects unknown options by name', () => {
    expect(() => resolveOpenStackConfig({ regoin: 'x' } as never, { env: {} })).toThrow(/regoin/);
  });
});
