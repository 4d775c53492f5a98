/**
 * Image aliases → Compute Engine public image families, and the native image
 * references kumo accepts. A family always resolves (images.getFromFamily) to its
 * newest non-deprecated image, which is what `ubuntu-22.04` should mean.
 */
import { ValidationError, type Arch } from '../../core/index.js';

export interface FamilyRef {
  readonly project: string;
  readonly family: string;
}

/** alias → family per architecture, in Google's public image projects. */
export const GCP_IMAGE_FAMILIES: Readonly<Record<string, Readonly<Record<Arch, FamilyRef>>>> = {
  'ubuntu-20.04': {
    x86_64: { project: 'ubuntu-os-cloud', family: 'ubuntu-2004-lts' },
    arm64: { project: 'ubuntu-os-cloud', family: 'ubuntu-2004-lts-arm64' },
  },
  'ubuntu-22.04': {
    x86_64: { project: 'ubuntu-os-cloud', family: 'ubuntu-2204-lts' },
    arm64: { project: 'ubuntu-os-cloud', family: 'ubuntu-2204-lts-arm64' },
  },
  'ubuntu-24.04': {
    x86_64: { project: 'ubuntu-os-cloud', family: 'ubuntu-2404-lts-amd64' },
    arm64: { project: 'ubuntu-os-cloud', family: 'ubuntu-2404-lts-arm64' },
  },
  'debian-11': {
    x86_64: { project: 'debian-cloud', family: 'debian-11' },
    arm64: { project: 'debian-cloud', family: 'debian-11-arm64' },
  },
  'debian-12': {
    x86_64: { project: 'debian-cloud', family: 'debian-12' },
    arm64: { project: 'debian-cloud', family: 'debian-12-arm64' },
  },
  'rocky-9': {
    x86_64: { project: 'rocky-linux-cloud', family: 'rocky-linux-9' },
    arm64: { project: 'rocky-linux-cloud', family: 'rocky-linux-9-arm64' },
  },
};

/** A native reference: one image by name, or the newest image of a family. */
export type ImageRef = { readonly project: string; readonly image: string } | FamilyRef;

const NAME = '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?';
const PROJECT = '[a-z][-a-z0-9.:]{4,61}[a-z0-9]';
const NATIVE = new RegExp(
  `^(?:https://(?:www|compute)\\.googleapis\\.com/compute/(?:v1|beta|alpha)/)?projects/(${PROJECT})/global/images/(?:(family)/)?(${NAME})$`,
);
const SHORT_FAMILY = new RegExp(`^(${PROJECT})/family/(${NAME})$`);

/**
 * Parses a native image reference: a self-link
 * (`https://compute.googleapis.com/compute/v1/projects/P/global/images/NAME`), a
 * relative one (`projects/P/global/images/family/F`), or `P/family/F`. A bare name
 * is looked up in the provider's own project.
 * @returns undefined for a bare word that is no valid image name (`no-such-os-1.0`):
 *   to the caller that is an unknown alias, not a malformed reference.
 * @throws ValidationError for a path that is not an image reference, naming the accepted forms.
 */
export function parseImageRef(value: string, ownProject: string): ImageRef | undefined {
  const m = NATIVE.exec(value);
  if (m !== null)
    return m[2] === 'family' ? { project: m[1]!, family: m[3]! } : { project: m[1]!, image: m[3]! };
  const f = SHORT_FAMILY.exec(value);
  if (f !== null) return { project: f[1]!, family: f[2]! };
  if (new RegExp(`^${NAME}$`).test(value)) return { project: ownProject, image: value };
  if (!value.includes('/') && !value.includes(':')) return undefined;
  throw new ValidationError(
    `"${value}" is not a Compute Engine image: use an alias (ubuntu-22.04, debian-12, …), projects/<project>/global/images/<name>, projects/<project>/global/images/family/<family>, or an image self-link`,
    { issues: [{ path: 'image', message: 'not an image alias, name, family or self-link' }] },
  );
}

/** How a Google image architecture (`X86_64`, `ARM64`) reads in kumo. */
export function toArch(value: string | null | undefined): Arch | undefined {
  if (value === 'ARM64') return 'arm64';
  if (value === 'X86_64') return 'x86_64';
  return undefined;
}
