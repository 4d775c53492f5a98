export {
  Ec2Fake,
  TEST_ACCESS_KEY_ID,
  testCredentials,
  type Ec2FakeOptions,
  type Ec2Faults,
  type FaultRates,
} from './ec2-fake.js';
export { DOCUMENTED_EC2_LIMITS, type Ec2Limits, type BucketLimit } from './limits.js';
export {
  FAKE_ZONES,
  FAKE_INSTANCE_TYPES,
  FAKE_IMAGES,
  OWNER_CANONICAL,
  OWNER_DEBIAN,
  OWNER_AMAZON,
  FAKE_ACCOUNT,
} from './catalog.js';
export type { FakeInstance } from './state.js';
export { SettlingClock } from './settling-clock.js';
