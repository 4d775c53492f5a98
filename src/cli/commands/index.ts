import type { Command } from 'commander';
import { registerVersion } from './version.js';
import { registerSizes } from './sizes.js';
import { registerImages } from './images.js';

/** Every `kumo` sub-command, in help order. Each file registers one. */
export const COMMANDS: readonly ((program: Command) => void)[] = [
  registerVersion,
  registerSizes,
  registerImages,
];
