import type { Command } from 'commander';
import { registerVersion } from './version.js';
import { registerSizes } from './sizes.js';
import { registerImages } from './images.js';
import { registerPlan } from './plan.js';
import { registerApply } from './apply.js';
import { registerDestroy } from './destroy.js';
import { registerStatus } from './status.js';
import { registerMachines } from './machines.js';
import { registerRefresh } from './refresh.js';
import { registerAdopt } from './adopt.js';
import { registerForceUnlock } from './force-unlock.js';
import { registerBaremetal } from './baremetal.js';
import { registerServe } from './serve.js';
import { registerSimulate } from './simulate.js';

/** Every `kumo` sub-command, in help order. Each file registers one. */
export const COMMANDS: readonly ((program: Command) => void)[] = [
  registerVersion,
  registerSizes,
  registerImages,
  registerPlan,
  registerApply,
  registerDestroy,
  registerStatus,
  registerMachines,
  registerRefresh,
  registerAdopt,
  registerForceUnlock,
  registerBaremetal,
  registerServe,
  registerSimulate,
];
