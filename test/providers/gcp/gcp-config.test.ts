import { describe, expect, it } from 'vitest';
import { isKumoError, parse, type ValidationError } from '../../../src/core/index.js';
import {
  clientOptions,
  credentialSource,
  GcpOptionsSchema,
} from '../../../src/providers/gcp/gcp-config.js';

const KEY = {
  client_email: 'kumo@acme.iam.gserviceaccount.com',
  private_key: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n',
  project_id: 'acme-prod',
  type: 'service_account',
};

function issues(input: unknown): string[] {
  try {
    parse(GcpOptionsSchema, input, 'gcp options');
  } catch (err) {
    if (isKumoError(err))
      return (err as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('options', () => {
  it('name each field at fault and why', () => {
    expect(
      issues({
        region: 'us central',
        project: 'X',
        zones: ['europe-west1-b'],
        rateLimit: { queriesPerMinute: 1 },
      }),
    ).toEqual([
      'project: project ids are 6–30 lowercase letters, digits and "-", starting with a letter',
      'region: region is a Compute Engine region such as us-central1',
      'rateLimit.queriesPerMinute: Too small: expected number to be >=6',
    ]);
    expect(issues({ region: 'us-central1', zones: ['europe-west1-b'] })).toEqual([
      'zones.0: zone europe-west1-b is not in region us-central1',
    ]);
  });

  it('take one source of credentials, not two', () => {
    expect(issues({ region: 'us-central1', credentials: KEY, keyFilename: '/k.json' })).toEqual([
      'keyFilename: give one of credentials, keyFilename and authClient, not credentials and keyFilename',
    ]);
  });

  it('refuse an authClient that is no google-auth-library client', () => {
    expect(issues({ region: 'us-central1', authClient: { token: 'x' } })[0]).toMatch(
      /^authClient: authClient must be a google-auth-library client/,
    );
  });
});

describe('client options', () => {
  it('leave credentials to Application Default Credentials when none are given', () => {
    const config = parse(GcpOptionsSchema, { region: 'us-central1' }, 'gcp options');
    expect(clientOptions(config)).toEqual({});
    expect(credentialSource(config)).toMatch(
      /Application Default Credentials \(GOOGLE_APPLICATION_CREDENTIALS, gcloud ADC file, or the metadata server\)/,
    );
  });

  it('pass an explicit service-account key and take the project from it', () => {
    const config = parse(
      GcpOptionsSchema,
      { region: 'us-central1', credentials: KEY },
      'gcp options',
    );
    expect(clientOptions(config)).toMatchObject({ credentials: KEY, projectId: 'acme-prod' });
    expect(credentialSource(config)).toBe(
      'service account kumo@acme.iam.gserviceaccount.com (credentials option)',
    );
    expect(credentialSource(config)).not.toContain('PRIVATE KEY');
  });

  it('split an endpoint URL into host, protocol and port, for emulators and private endpoints', () => {
    const at = (apiEndpoint: string) =>
      clientOptions(parse(GcpOptionsSchema, { region: 'us-central1', apiEndpoint }, 'gcp options'));
    expect(at('http://127.0.0.1:8085')).toEqual({
      apiEndpoint: '127.0.0.1',
      protocol: 'http',
      port: 8085,
    });
    expect(at('compute-private.googleapis.com')).toEqual({
      apiEndpoint: 'compute-private.googleapis.com',
      protocol: 'https',
    });
  });

  it('never switch the client off its HTTP/JSON transport', () => {
    const config = parse(
      GcpOptionsSchema,
      { region: 'us-central1', keyFilename: '/k.json', apiEndpoint: 'x.example.com' },
      'gcp options',
    );
    expect(clientOptions(config)).not.toHaveProperty('fallback');
  });
});
