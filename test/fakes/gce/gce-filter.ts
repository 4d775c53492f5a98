/**
 * The part of Compute Engine's list `filter` syntax the fake understands:
 * `field = "value"`, `field != value`, `field eq regex`, `field ne regex`, dotted
 * fields (`labels.env`, `scheduling.preemptible`), expressions in parentheses joined
 * by AND (or juxtaposition) and OR, and a trailing `*` wildcard on `=` values.
 * Anything else is refused with 400, as Compute Engine refuses a filter it cannot parse.
 */

type Node =
  { and: Node[] } | { or: Node[] } | { field: string; op: '=' | '!=' | 'eq' | 'ne'; value: string };

const TOKEN = /\s*(\(|\)|!=|=|"(?:[^"\\]|\\.)*"|[^\s()=!"]+)/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (m === null) {
      if (/^\s*$/.test(text.slice(start))) break;
      throw new Error(`unexpected input at ${start}`);
    }
    out.push(m[1]!);
  }
  return out;
}

export function parseFilter(text: string): Node {
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  function primary(): Node {
    if (peek() === '(') {
      i++;
      const inner = orExpr();
      if (tokens[i++] !== ')') throw new Error('missing )');
      return inner;
    }
    const field = tokens[i++];
    const op = tokens[i++];
    const raw = tokens[i++];
    if (field === undefined || raw === undefined || !/^[a-zA-Z][\w.-]*$/.test(field))
      throw new Error(`bad expression near ${field ?? 'end'}`);
    if (op !== '=' && op !== '!=' && op !== 'eq' && op !== 'ne')
      throw new Error(`unknown operator ${op ?? ''}`);
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    return { field, op, value };
  }
  function andExpr(): Node {
    const parts = [primary()];
    while (peek() !== undefined && peek() !== ')' && peek() !== 'OR') {
      if (peek() === 'AND') i++;
      parts.push(primary());
    }
    return parts.length === 1 ? parts[0]! : { and: parts };
  }
  function orExpr(): Node {
    const parts = [andExpr()];
    while (peek() === 'OR') {
      i++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? parts[0]! : { or: parts };
  }
  const node = orExpr();
  if (i !== tokens.length) throw new Error(`unexpected ${tokens[i]}`);
  return node;
}

function fieldValue(resource: Record<string, unknown>, path: string): unknown {
  const [head, ...rest] = path.split('.');
  if (head === 'labels' && rest.length > 0)
    return (resource['labels'] as Record<string, unknown> | undefined)?.[rest.join('.')];
  let value: unknown = resource;
  for (const part of path.split('.'))
    value =
      typeof value === 'object' && value !== null
        ? (value as Record<string, unknown>)[part]
        : undefined;
  return value;
}

export function matchesFilter(node: Node, resource: Record<string, unknown>): boolean {
  if ('and' in node) return node.and.every((n) => matchesFilter(n, resource));
  if ('or' in node) return node.or.some((n) => matchesFilter(n, resource));
  const actual = fieldValue(resource, node.field);
  const text =
    typeof actual === 'string' || typeof actual === 'number' || typeof actual === 'boolean'
      ? String(actual)
      : '';
  // Resource fields that hold URLs match on the last segment too (`zone = us-central1-a`).
  const candidates = [text, text.slice(text.lastIndexOf('/') + 1)];
  if (node.op === 'eq' || node.op === 'ne') {
    const re = new RegExp(`^(?:${node.value})$`);
    const hit = candidates.some((c) => re.test(c));
    return node.op === 'eq' ? hit : !hit;
  }
  const hit = node.value.endsWith('*')
    ? candidates.some((c) => c.startsWith(node.value.slice(0, -1)))
    : candidates.includes(node.value);
  if (actual === undefined && node.op === '=') return false;
  return node.op === '=' ? hit : !hit;
}
