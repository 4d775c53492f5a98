/**
 * The EC2 Query protocol as the fake reads it: a form-encoded body of flat keys
 * (`InstanceId.1`, `Filter.1.Value.2`, `TagSpecification.1.Tag.1.Key`), which these
 * helpers turn back into lists and nested records.
 */
import { Ec2Error } from './errors.js';

export type Params = ReadonlyMap<string, string>;

export function parseForm(body: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(body)) out.set(k, v);
  return out;
}

/** The values of `Name.1`, `Name.2`, … in order. */
export function list(params: Params, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; ; i++) {
    const v = params.get(`${name}.${i}`);
    if (v === undefined) return out;
    out.push(v);
  }
}

/** The members of `Name.N.*` as sub-maps keyed by what follows `Name.N.`. */
export function structList(params: Params, name: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  for (let i = 1; ; i++) {
    const prefix = `${name}.${i}.`;
    const sub = new Map<string, string>();
    for (const [k, v] of params) if (k.startsWith(prefix)) sub.set(k.slice(prefix.length), v);
    if (sub.size === 0) return out;
    out.push(sub);
  }
}

/** The members of `Name.*` as a sub-map (a nested structure). */
export function struct(params: Params, name: string): Map<string, string> {
  const prefix = `${name}.`;
  const sub = new Map<string, string>();
  for (const [k, v] of params) if (k.startsWith(prefix)) sub.set(k.slice(prefix.length), v);
  return sub;
}

export function required(params: Params, name: string): string {
  const v = params.get(name);
  if (v === undefined || v === '')
    throw new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);
  return v;
}

export function int(params: Params, name: string): number | undefined {
  const v = params.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n))
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${v}) for parameter ${name} is invalid. Expected an integer.`,
    );
  return n;
}

export function bool(params: Params, name: string): boolean | undefined {
  const v = params.get(name);
  return v === undefined ? undefined : v === 'true';
}

export interface Filter {
  readonly name: string;
  readonly values: readonly string[];
}

export function filters(params: Params): Filter[] {
  return structList(params, 'Filter').map((f) => ({
    name: f.get('Name') ?? '',
    values: list(f, 'Value'),
  }));
}

export interface TagSpec {
  readonly resourceType: string;
  readonly tags: ReadonlyMap<string, string>;
}

export function tagSpecs(params: Params): TagSpec[] {
  return structList(params, 'TagSpecification').map((s) => {
    const tags = new Map<string, string>();
    for (const t of structList(s, 'Tag')) tags.set(t.get('Key') ?? '', t.get('Value') ?? '');
    return { resourceType: s.get('ResourceType') ?? '', tags };
  });
}

/** EC2 filter values take `*` (any run) and `?` (one character) wildcards. */
function wildcard(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 's');
}

/**
 * True when the resource passes every filter: for each filter, one of its values
 * matches one of the resource's values for that name (EC2's AND of ORs).
 * `valuesOf` returns undefined for a filter name the resource type does not know.
 */
export function matches(
  filterList: readonly Filter[],
  valuesOf: (name: string) => readonly string[] | undefined,
): boolean {
  for (const f of filterList) {
    const have = valuesOf(f.name);
    if (have === undefined)
      throw new Ec2Error('InvalidParameterValue', `The filter '${f.name}' is invalid`);
    const patterns = f.values.map(wildcard);
    if (!have.some((v) => patterns.some((p) => p.test(v)))) return false;
  }
  return true;
}

/** Tag filters shared by every taggable resource: `tag:<key>`, `tag-key`, `tag-value`. */
export function tagFilterValues(
  name: string,
  tags: ReadonlyMap<string, string>,
): readonly string[] | undefined {
  if (name.startsWith('tag:')) {
    const v = tags.get(name.slice(4));
    return v === undefined ? [] : [v];
  }
  if (name === 'tag-key') return [...tags.keys()];
  if (name === 'tag-value') return [...tags.values()];
  return undefined;
}

/** One page of `items` after `NextToken`, with the token of the next page. */
export function paginate<T>(
  params: Params,
  items: readonly T[],
  limits: { min: number; max: number; default?: number },
): { page: T[]; nextToken?: string } {
  const maxResults = int(params, 'MaxResults');
  if (maxResults !== undefined && (maxResults < limits.min || maxResults > limits.max))
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value ( ${maxResults} ) for parameter maxResults is invalid. Parameter must be between ${limits.min} and ${limits.max}.`,
    );
  const size = maxResults ?? limits.default ?? Number.POSITIVE_INFINITY;
  const token = params.get('NextToken');
  let start = 0;
  if (token !== undefined) {
    const decoded = Number(
      Buffer.from(token, 'base64url')
        .toString('utf8')
        .replace(/^offset:/, ''),
    );
    if (!Number.isInteger(decoded) || decoded < 0)
      throw new Ec2Error('InvalidParameterValue', 'The token provided is invalid.');
    start = decoded;
  }
  const page = items.slice(start, start + size);
  const next = start + page.length;
  return next < items.length
    ? { page, nextToken: Buffer.from(`offset:${next}`, 'utf8').toString('base64url') }
    : { page };
}
