/**
 * Bundled On-Demand prices, USD per instance-hour.
 *
 * Source: Amazon EC2 On-Demand Pricing (https://aws.amazon.com/ec2/pricing/on-demand/),
 * region us-east-1 (N. Virginia), Linux/UNIX, shared tenancy. Source date: list prices
 * as published June 2024 (these families' us-east-1 prices have not changed since;
 * re-checked against public listings in 2026).
 *
 * NOTE: no script makes this table — this repository cannot reach the AWS Price List
 * API, so the figures were transcribed by hand. To refresh it, read the Price List
 * Bulk API offer file `offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json`
 * (operatingSystem=Linux, tenancy=Shared, preInstalledSw=NA, capacitystatus=Used).
 * Other regions have no bundled prices: pass `prices` to `aws(…)` for them, or to
 * override any figure here (negotiated rates, Savings Plans).
 */
export const PRICES_SOURCE =
  'aws.amazon.com/ec2/pricing/on-demand, us-east-1, Linux/UNIX, shared tenancy, June 2024 list prices';

const US_EAST_1: Readonly<Record<string, number>> = {
  't3.nano': 0.0052,
  't3.micro': 0.0104,
  't3.small': 0.0208,
  't3.medium': 0.0416,
  't3.large': 0.0832,
  't3.xlarge': 0.1664,
  't3.2xlarge': 0.3328,
  't3a.nano': 0.0047,
  't3a.micro': 0.0094,
  't3a.small': 0.0188,
  't3a.medium': 0.0376,
  't3a.large': 0.0752,
  't3a.xlarge': 0.1504,
  't3a.2xlarge': 0.3008,
  't4g.nano': 0.0042,
  't4g.micro': 0.0084,
  't4g.small': 0.0168,
  't4g.medium': 0.0336,
  't4g.large': 0.0672,
  't4g.xlarge': 0.1344,
  't4g.2xlarge': 0.2688,
  'm5.large': 0.096,
  'm5.xlarge': 0.192,
  'm5.2xlarge': 0.384,
  'm5.4xlarge': 0.768,
  'm5.8xlarge': 1.536,
  'm5.12xlarge': 2.304,
  'm5.16xlarge': 3.072,
  'm5.24xlarge': 4.608,
  'm5a.large': 0.086,
  'm5a.xlarge': 0.172,
  'm5a.2xlarge': 0.344,
  'm5a.4xlarge': 0.688,
  'm6i.large': 0.096,
  'm6i.xlarge': 0.192,
  'm6i.2xlarge': 0.384,
  'm6i.4xlarge': 0.768,
  'm6i.8xlarge': 1.536,
  'm6i.12xlarge': 2.304,
  'm6i.16xlarge': 3.072,
  'm6i.24xlarge': 4.608,
  'm6i.32xlarge': 6.144,
  'm6a.large': 0.0864,
  'm6a.xlarge': 0.1728,
  'm6a.2xlarge': 0.3456,
  'm6a.4xlarge': 0.6912,
  'm6g.medium': 0.0385,
  'm6g.large': 0.077,
  'm6g.xlarge': 0.154,
  'm6g.2xlarge': 0.308,
  'm6g.4xlarge': 0.616,
  'm7i.large': 0.1008,
  'm7i.xlarge': 0.2016,
  'm7i.2xlarge': 0.4032,
  'm7i.4xlarge': 0.8064,
  'm7g.medium': 0.0408,
  'm7g.large': 0.0816,
  'm7g.xlarge': 0.1632,
  'm7g.2xlarge': 0.3264,
  'm7g.4xlarge': 0.6528,
  'c5.large': 0.085,
  'c5.xlarge': 0.17,
  'c5.2xlarge': 0.34,
  'c5.4xlarge': 0.68,
  'c5.9xlarge': 1.53,
  'c6i.large': 0.085,
  'c6i.xlarge': 0.17,
  'c6i.2xlarge': 0.34,
  'c6i.4xlarge': 0.68,
  'c6i.8xlarge': 1.36,
  'c6g.medium': 0.034,
  'c6g.large': 0.068,
  'c6g.xlarge': 0.136,
  'c6g.2xlarge': 0.272,
  'c7g.medium': 0.0363,
  'c7g.large': 0.0725,
  'c7g.xlarge': 0.145,
  'c7g.2xlarge': 0.29,
  'c7i.large': 0.08925,
  'c7i.xlarge': 0.1785,
  'c7i.2xlarge': 0.357,
  'r5.large': 0.126,
  'r5.xlarge': 0.252,
  'r5.2xlarge': 0.504,
  'r5.4xlarge': 1.008,
  'r6i.large': 0.126,
  'r6i.xlarge': 0.252,
  'r6i.2xlarge': 0.504,
  'r6i.4xlarge': 1.008,
  'r6g.medium': 0.0504,
  'r6g.large': 0.1008,
  'r6g.xlarge': 0.2016,
  'r6g.2xlarge': 0.4032,
  'r7g.medium': 0.0536,
  'r7g.large': 0.1071,
  'r7g.xlarge': 0.2142,
  'r7g.2xlarge': 0.4284,
  'i3.large': 0.156,
  'i3.xlarge': 0.312,
  'i3.2xlarge': 0.624,
  'g4dn.xlarge': 0.526,
  'g4dn.2xlarge': 0.752,
  'g4dn.4xlarge': 1.204,
  'g4dn.8xlarge': 2.176,
  'g4dn.12xlarge': 3.912,
  'g5.xlarge': 1.006,
  'g5.2xlarge': 1.212,
  'g5.4xlarge': 1.624,
  'g5.8xlarge': 2.448,
  'p3.2xlarge': 3.06,
  'p3.8xlarge': 12.24,
  'p3.16xlarge': 24.48,
};

const BUNDLED: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'us-east-1': US_EAST_1,
};

/**
 * The On-Demand price of `instanceType` in `region`: the user's override first, then
 * the bundled table; undefined when neither knows it.
 *
 * @example
 * ```ts
 * onDemandPrice('us-east-1', 'm6i.large'); // 0.096
 * ```
 */
export function onDemandPrice(
  region: string,
  instanceType: string,
  overrides: Readonly<Record<string, number>> = {},
): number | undefined {
  return overrides[instanceType] ?? BUNDLED[region]?.[instanceType];
}
