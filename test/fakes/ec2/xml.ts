/** Just enough XML writing for EC2's responses, with the escaping the SDK's parser expects. */

export function escape(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export type XmlValue = string | number | boolean | undefined | null;

/** `<name>value</name>`, or nothing when the value is absent. */
export function el(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  return `<${name}>${escape(String(value))}</${name}>`;
}

/** `<name>children</name>` from already-written XML. */
export function node(name: string, ...children: string[]): string {
  return `<${name}>${children.join('')}</${name}>`;
}

/** An EC2 list: `<name><item>…</item>…</name>`. */
export function items<T>(name: string, values: readonly T[], write: (value: T) => string): string {
  return `<${name}>${values.map((v) => `<item>${write(v)}</item>`).join('')}</${name}>`;
}

export function tagSet(tags: ReadonlyMap<string, string>): string {
  return items('tagSet', [...tags], ([k, v]) => el('key', k) + el('value', v));
}

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** The success envelope: `<ActionResponse xmlns=…><requestId>…</requestId>…</ActionResponse>`. */
export function response(action: string, requestId: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_XMLNS}"><requestId>${requestId}</requestId>${body}</${action}Response>`;
}

/** EC2's documented error envelope. */
export function errorResponse(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escape(code)}</Code><Message>${escape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}
