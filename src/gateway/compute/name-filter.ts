/**
 * Nova's `name` filter on server lists: a regular expression, which Nova runs in its
 * database. Run here on the one event loop, a pattern with nested or many repeats
 * (`(.*.*)*x`) could backtrack for minutes on a single name, so only patterns that
 * cannot are run as regular expressions; any other is matched as the literal text it
 * spells, as an unparsable one is.
 */

/** Variable repeats (`*`, `+`, `{n,}`, `{n,m}`) a pattern may have and still run as a regex. */
const MAX_REPEATS = 2;

/** A test of a server's name against the filter `pattern`. */
export function nameFilter(pattern: string): (name: string) => boolean {
  const regex = safeRegex(pattern);
  if (regex !== undefined) return (name) => regex.test(name);
  return (name) => name.includes(pattern);
}

function safeRegex(pattern: string): RegExp | undefined {
  if (!boundedBacktracking(pattern)) return undefined;
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

/**
 * True when the pattern repeats no group, has no back-reference and at most
 * {@link MAX_REPEATS} variable repeats: its backtracking is then polynomial of a low
 * degree in the name's length (at most 255 characters).
 */
function boundedBacktracking(pattern: string): boolean {
  let repeats = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      if (/[1-9k]/.test(pattern[i + 1] ?? '')) return false; // back-references
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ')' && /[*+{]/.test(pattern[i + 1] ?? '')) return false;
    else if (c === '*' || c === '+') repeats++;
    else if (c === '{' && /^\{\d+,\d*\}/.test(pattern.slice(i))) repeats++;
  }
  return repeats <= MAX_REPEATS;
}
