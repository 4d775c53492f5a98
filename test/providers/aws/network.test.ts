/**
 * Networks on the EC2 wire fake beyond the contract: a public subnet brings an internet
 * gateway attached to the VPC, and deleting the network takes the gateway away too.
 */
import { afterEach, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/index.js';
import { aws } from '../../../src/providers/aws/index.js';
import { Ec2Fake, testCredentials } from '../../fakes/ec2/index.js';

let fake: Ec2Fake | undefined;
afterEach(() => fake?.uninstall());

it('gives a network with a public subnet one attached internet gateway, and deletes it with the network', async () => {
  const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1), autoAdvance: true });
  fake = new Ec2Fake({ clock }).install();
  const provider = aws({ region: 'us-east-1', credentials: testCredentials() }, { clock });
  const spec = {
    name: 'edge',
    cidr: '10.60.0.0/16',
    subnets: [{ name: 'dmz', cidr: '10.60.1.0/24', public: true }],
  };
  const network = await provider.ensureNetwork(spec);
  await provider.ensureNetwork(spec); // again: the gateway is found, not made twice
  // The account's default VPC has its own gateway; count the network's.
  const ours = () =>
    [...fake!.state.internetGateways.values()].filter((g) => g.vpcId === network.id);
  expect(ours()).toHaveLength(1);
  const others = fake.state.internetGateways.size - 1;
  await provider.deleteNetwork('edge');
  expect(ours()).toEqual([]);
  expect(fake.state.internetGateways.size).toBe(others);
  provider.close();
});
