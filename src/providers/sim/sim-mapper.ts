import type { Machine, MachineAddress, MachineState } from '../../core/index.js';
import type { SimMachineRecord } from './sim-cloud.js';

/** Turns the simulated cloud's record into a neutral machine. */
export function toMachine(
  record: SimMachineRecord,
  context: { provider: string; region: string; state: MachineState; error?: string | undefined },
): Machine {
  const addresses: MachineAddress[] = [{ type: 'private', address: record.privateIp }];
  if (record.publicIp !== undefined) addresses.push({ type: 'public', address: record.publicIp });
  return {
    id: record.name,
    providerId: record.providerId,
    provider: context.provider,
    region: context.region,
    zone: record.zone,
    size: record.size,
    resources: record.resources,
    image: record.image,
    state: context.state,
    spot: record.spot,
    addresses,
    labels: record.labels,
    ...(record.pricePerHour === undefined ? {} : { pricePerHour: record.pricePerHour }),
    createdAt: new Date(record.createdAt).toISOString(),
    ...(context.error === undefined ? {} : { error: context.error }),
  };
}
