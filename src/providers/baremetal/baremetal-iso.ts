/**
 * A minimal ISO 9660 writer with Joliet names: enough for an OpenStack config drive
 * (a volume labelled `config-2` holding `openstack/<version>/meta_data.json` and
 * `user_data`), which Ironic before API 1.56 takes only as a gzipped, base64 ISO.
 *
 * Layout (2048-byte sectors): 16 system sectors, the primary volume descriptor, the
 * Joliet supplementary descriptor, the terminator, the four path tables, the primary
 * tree's directories, the Joliet tree's directories, then file data shared by both.
 * Primary names are upper-case ISO 9660 level 2 names; Linux, Windows and cloud-init
 * read the Joliet names, which keep case and length.
 */

const SECTOR = 2048;

export interface IsoFile {
  /** Slash-separated path inside the image, e.g. `openstack/latest/meta_data.json`. */
  readonly path: string;
  readonly data: Uint8Array;
}

export interface IsoOptions {
  /** Volume label, at most 16 characters (Joliet keeps 16 UCS-2 characters). */
  readonly volumeId: string;
  readonly files: readonly IsoFile[];
  /** Recorded as every date in the image; injected so the same input gives the same bytes. */
  readonly date: Date;
  readonly publisher?: string;
}

interface Dir {
  name: string;
  /** Name in the primary (ISO 9660) tree. */
  primary: string;
  parent: Dir | undefined;
  dirs: Dir[];
  files: { name: string; primary: string; data: Uint8Array; extent: number }[];
  /** Path table number (1-based, the order of the path table). */
  number: number;
  extent: { primary: number; joliet: number };
  size: { primary: number; joliet: number };
}

function bothEndian32(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value, offset);
  buf.writeUInt32BE(value, offset + 4);
}

function bothEndian16(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt16LE(value, offset);
  buf.writeUInt16BE(value, offset + 2);
}

/** UCS-2 big-endian, as Joliet stores names. */
function ucs2(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  for (let i = 0; i < le.length; i += 2) {
    const a = le[i]!;
    le[i] = le[i + 1]!;
    le[i + 1] = a;
  }
  return le;
}

/** ISO 9660 level 2 name: d-characters (A–Z, 0–9, _), at most 30 characters, files with `.EXT;1`. */
function primaryName(name: string, isFile: boolean): string {
  const clean = (s: string): string => s.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  if (!isFile) return clean(name).slice(0, 31);
  const dot = name.lastIndexOf('.');
  const base = clean(dot > 0 ? name.slice(0, dot) : name);
  const ext = dot > 0 ? clean(name.slice(dot + 1)) : '';
  return `${base.slice(0, 29 - Math.min(ext.length, 8))}.${ext.slice(0, 8)};1`;
}

/** A child's identifier in one of the two trees. */
function identifier(entry: { name: string; primary: string }, joliet: boolean): Buffer {
  return joliet ? ucs2(entry.name) : Buffer.from(entry.primary, 'ascii');
}

/**
 * Primary names unique within a directory: ISO 9660 names are short and upper-case,
 * so `a-b` and `a_b`, or two long names with one beginning, fold together; the later
 * ones get a number in place of their last characters (as genisoimage does).
 */
function assignPrimaryNames(dir: Dir): void {
  const taken = new Set<string>();
  const entries = [
    ...dir.dirs.map((d) => ({ entry: d, isFile: false })),
    ...dir.files.map((f) => ({ entry: f, isFile: true })),
  ];
  for (const { entry, isFile } of entries) {
    let name = primaryName(entry.name, isFile);
    for (let n = 0; taken.has(name); n++) {
      if (n > 999) throw new RangeError(`too many names in one directory fold to ${name}`);
      const [stem = '', rest = ''] = isFile ? name.split(/(?=\.)/) : [name, ''];
      name = `${stem.slice(0, Math.max(1, stem.length - 3))}${String(n).padStart(3, '0')}${rest}`;
    }
    taken.add(name);
    entry.primary = name;
  }
  for (const child of dir.dirs) assignPrimaryNames(child);
}

/** The 7-byte directory-record date (§9.1.5): years since 1900, month … second, UTC offset 0. */
function recordDate(date: Date): Buffer {
  return Buffer.from([
    date.getUTCFullYear() - 1900,
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    0,
  ]);
}

/** The 17-byte descriptor date (§8.4.26.1): "YYYYMMDDHHMMSScc" and a UTC offset byte. */
function descriptorDate(date: Date | undefined): Buffer {
  const out = Buffer.alloc(17, 0);
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  const text =
    date === undefined
      ? '0000000000000000'
      : `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1, 2)}${pad(date.getUTCDate(), 2)}` +
        `${pad(date.getUTCHours(), 2)}${pad(date.getUTCMinutes(), 2)}${pad(date.getUTCSeconds(), 2)}00`;
  out.write(text, 0, 'ascii');
  return out;
}

/** One directory record (§9.1); padded to an even length. */
function dirRecord(id: Buffer, extent: number, size: number, isDir: boolean, date: Date): Buffer {
  const length = 33 + id.length + (id.length % 2 === 0 ? 1 : 0);
  const rec = Buffer.alloc(length, 0);
  rec[0] = length;
  bothEndian32(rec, 2, extent);
  bothEndian32(rec, 10, size);
  recordDate(date).copy(rec, 18);
  rec[25] = isDir ? 0x02 : 0x00;
  bothEndian16(rec, 28, 1);
  rec[32] = id.length;
  id.copy(rec, 33);
  return rec;
}

/** The records of a directory (".", "..", then children in identifier order), packed so none crosses a sector. */
function dirRecords(dir: Dir, joliet: boolean, date: Date): Buffer {
  const key = joliet ? 'joliet' : 'primary';
  const parent = dir.parent ?? dir;
  const records = [
    dirRecord(Buffer.from([0]), dir.extent[key], dir.size[key], true, date),
    dirRecord(Buffer.from([1]), parent.extent[key], parent.size[key], true, date),
  ];
  const children = [
    ...dir.dirs.map((d) => ({
      id: identifier(d, joliet),
      rec: (id: Buffer) => dirRecord(id, d.extent[key], d.size[key], true, date),
    })),
    ...dir.files.map((f) => ({
      id: identifier(f, joliet),
      rec: (id: Buffer) => dirRecord(id, f.extent, f.data.length, false, date),
    })),
  ].sort((a, b) => Buffer.compare(a.id, b.id));
  for (const c of children) records.push(c.rec(c.id));
  const out: Buffer[] = [];
  let used = 0;
  for (const r of records) {
    if (used + r.length > SECTOR) {
      out.push(Buffer.alloc(SECTOR - used, 0));
      used = 0;
    }
    out.push(r);
    used += r.length;
  }
  if (used > 0) out.push(Buffer.alloc(SECTOR - used, 0));
  return Buffer.concat(out);
}

function sectorsFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / SECTOR));
}

/** Directories in path-table order: by depth, then parent number, then identifier. */
function pathTableOrder(root: Dir, joliet: boolean): Dir[] {
  const order: Dir[] = [root];
  for (let i = 0; i < order.length; i++) {
    const kids = [...order[i]!.dirs].sort((a, b) =>
      Buffer.compare(identifier(a, joliet), identifier(b, joliet)),
    );
    order.push(...kids);
  }
  return order;
}

function pathTable(order: readonly Dir[], joliet: boolean, bigEndian: boolean): Buffer {
  const key = joliet ? 'joliet' : 'primary';
  const numbers = new Map(order.map((d, i) => [d, i + 1]));
  const parts: Buffer[] = [];
  for (const dir of order) {
    const id = dir.parent === undefined ? Buffer.from([0]) : identifier(dir, joliet);
    const rec = Buffer.alloc(8 + id.length + (id.length % 2), 0);
    rec[0] = id.length;
    if (bigEndian) rec.writeUInt32BE(dir.extent[key], 2);
    else rec.writeUInt32LE(dir.extent[key], 2);
    const parent = numbers.get(dir.parent ?? dir)!;
    if (bigEndian) rec.writeUInt16BE(parent, 6);
    else rec.writeUInt16LE(parent, 6);
    id.copy(rec, 8);
    parts.push(rec);
  }
  return Buffer.concat(parts);
}

function textField(
  buf: Buffer,
  offset: number,
  length: number,
  text: string,
  joliet: boolean,
): void {
  if (joliet) {
    const field = Buffer.alloc(length, 0);
    for (let i = 0; i + 1 < length; i += 2) field.writeUInt16BE(0x20, i);
    ucs2(text)
      .subarray(0, length - (length % 2))
      .copy(field, 0);
    field.copy(buf, offset);
  } else {
    buf.write(text.padEnd(length, ' ').slice(0, length), offset, 'ascii');
  }
}

function volumeDescriptor(
  joliet: boolean,
  options: IsoOptions,
  root: Dir,
  totalSectors: number,
  pathTableSize: number,
  lTable: number,
  mTable: number,
): Buffer {
  const vd = Buffer.alloc(SECTOR, 0);
  vd[0] = joliet ? 2 : 1;
  vd.write('CD001', 1, 'ascii');
  vd[6] = 1;
  textField(vd, 8, 32, '', joliet);
  textField(vd, 40, 32, options.volumeId, joliet);
  bothEndian32(vd, 80, totalSectors);
  // Joliet UCS-2 level 3 escape sequence "%/E".
  if (joliet) vd.write('%/E', 88, 'ascii');
  bothEndian16(vd, 120, 1);
  bothEndian16(vd, 124, 1);
  bothEndian16(vd, 128, SECTOR);
  bothEndian32(vd, 132, pathTableSize);
  vd.writeUInt32LE(lTable, 140);
  vd.writeUInt32BE(mTable, 148);
  const key = joliet ? 'joliet' : 'primary';
  dirRecord(Buffer.from([0]), root.extent[key], root.size[key], true, options.date).copy(vd, 156);
  textField(vd, 190, 128, '', joliet);
  textField(vd, 318, 128, options.publisher ?? 'kumo', joliet);
  textField(vd, 446, 128, '', joliet);
  textField(vd, 574, 128, 'kumo', joliet);
  textField(vd, 702, 37, '', joliet);
  textField(vd, 739, 37, '', joliet);
  textField(vd, 776, 37, '', joliet);
  descriptorDate(options.date).copy(vd, 813);
  descriptorDate(options.date).copy(vd, 830);
  descriptorDate(undefined).copy(vd, 847);
  descriptorDate(options.date).copy(vd, 864);
  vd[881] = 1;
  return vd;
}

function buildTree(files: readonly IsoFile[]): Dir {
  const mk = (name: string, parent: Dir | undefined): Dir => ({
    name,
    primary: '',
    parent,
    dirs: [],
    files: [],
    number: 0,
    extent: { primary: 0, joliet: 0 },
    size: { primary: 0, joliet: 0 },
  });
  const root = mk('', undefined);
  for (const file of files) {
    const parts = file.path.split('/').filter((p) => p !== '');
    const name = parts.pop();
    if (name === undefined) throw new RangeError(`empty ISO path "${file.path}"`);
    let dir = root;
    for (const part of parts) {
      let next = dir.dirs.find((d) => d.name === part);
      if (next === undefined) {
        next = mk(part, dir);
        dir.dirs.push(next);
      }
      dir = next;
    }
    if (dir.files.some((f) => f.name === name))
      throw new RangeError(`duplicate ISO path "${file.path}"`);
    dir.files.push({ name, primary: '', data: file.data, extent: 0 });
  }
  assignPrimaryNames(root);
  return root;
}

/**
 * Builds the image.
 *
 * @example
 * ```ts
 * const iso = buildIso9660({ volumeId: 'config-2', date: new Date(), files: [
 *   { path: 'openstack/latest/meta_data.json', data: Buffer.from('{"uuid":"…"}') },
 * ] });
 * ```
 */
export function buildIso9660(options: IsoOptions): Buffer {
  if (options.volumeId.length === 0 || options.volumeId.length > 16)
    throw new RangeError('the volume id is 1 to 16 characters');
  const root = buildTree(options.files);
  const primaryOrder = pathTableOrder(root, false);
  const jolietOrder = pathTableOrder(root, true);
  if (primaryOrder.length > 0xffff) throw new RangeError('too many directories');

  // Directory sizes depend only on names, so they are known before any location.
  for (const dir of primaryOrder) {
    dir.size.primary = dirRecords(dir, false, options.date).length;
    dir.size.joliet = dirRecords(dir, true, options.date).length;
  }
  const primaryTableSize = pathTable(primaryOrder, false, false).length;
  const jolietTableSize = pathTable(jolietOrder, true, false).length;

  let next = 16 + 3; // PVD, SVD, terminator
  const tables = {
    primaryL: next,
    primaryM: (next += sectorsFor(primaryTableSize)),
    jolietL: (next += sectorsFor(primaryTableSize)),
    jolietM: (next += sectorsFor(jolietTableSize)),
  };
  next += sectorsFor(jolietTableSize);
  for (const dir of primaryOrder) {
    dir.extent.primary = next;
    next += dir.size.primary / SECTOR;
  }
  for (const dir of jolietOrder) {
    dir.extent.joliet = next;
    next += dir.size.joliet / SECTOR;
  }
  for (const dir of primaryOrder)
    for (const file of dir.files) {
      file.extent = next;
      next += sectorsFor(file.data.length);
    }
  const total = next;

  const image = Buffer.alloc(total * SECTOR, 0);
  volumeDescriptor(
    false,
    options,
    root,
    total,
    primaryTableSize,
    tables.primaryL,
    tables.primaryM,
  ).copy(image, 16 * SECTOR);
  volumeDescriptor(
    true,
    options,
    root,
    total,
    jolietTableSize,
    tables.jolietL,
    tables.jolietM,
  ).copy(image, 17 * SECTOR);
  const terminator = Buffer.alloc(SECTOR, 0);
  terminator[0] = 255;
  terminator.write('CD001', 1, 'ascii');
  terminator[6] = 1;
  terminator.copy(image, 18 * SECTOR);
  pathTable(primaryOrder, false, false).copy(image, tables.primaryL * SECTOR);
  pathTable(primaryOrder, false, true).copy(image, tables.primaryM * SECTOR);
  pathTable(jolietOrder, true, false).copy(image, tables.jolietL * SECTOR);
  pathTable(jolietOrder, true, true).copy(image, tables.jolietM * SECTOR);
  for (const dir of primaryOrder) {
    dirRecords(dir, false, options.date).copy(image, dir.extent.primary * SECTOR);
    dirRecords(dir, true, options.date).copy(image, dir.extent.joliet * SECTOR);
    for (const file of dir.files) Buffer.from(file.data).copy(image, file.extent * SECTOR);
  }
  return image;
}
