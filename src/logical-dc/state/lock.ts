import { hostname } from 'node:os';
import { Conflict, systemClock, type Clock } from '../../core/index.js';
import type { LockHandle, LockHolder, LockOptions } from './state-store.js';

/** This process as a lock holder. */
export function currentHolder(command: string): LockHolder {
  return { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
}

/**
 * False only when we can tell the holder is gone: it ran on this host and its pid no
 * longer exists. A holder on another host is taken to be alive.
 */
export function holderAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid exists but belongs to someone else, so it is alive.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The same run: pid, host and start agree (the command is only shown). */
export function sameHolder(a: LockHolder, b: LockHolder): boolean {
  return a.pid === b.pid && a.host === b.host && a.since === b.since;
}

export function describeHolder(holder: LockHolder): string {
  return `pid ${holder.pid} on host ${holder.host} (${holder.command}, since ${holder.since})`;
}

export function lockedError(location: string, holder: LockHolder): Conflict {
  return new Conflict(
    `state ${location} is locked by ${describeHolder(holder)}; wait for it to finish, or run again with a lock timeout (if that run is gone — a host or container that died — kumo force-unlock removes its lock)`,
    {
      details: { holder },
    },
  );
}

/**
 * Takes a lock through `tryTake` (which returns the current holder when it cannot take
 * it), polling until `timeoutMs` runs out.
 */
export async function acquireWithWait(
  location: string,
  tryTake: () => { taken: true; broke?: LockHolder } | { taken: false; holder: LockHolder },
  release: () => void,
  options: LockOptions = {},
  clock: Clock = systemClock,
): Promise<LockHandle> {
  const deadline = clock.now() + (options.timeoutMs ?? 0);
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const attempt = tryTake();
    if (attempt.taken) {
      let released = false;
      return {
        ...(attempt.broke === undefined ? {} : { broke: attempt.broke }),
        release: () => {
          if (!released) release();
          released = true;
          return Promise.resolve();
        },
      };
    }
    if (clock.now() >= deadline) throw lockedError(location, attempt.holder);
    if (!told) options.onWait?.(attempt.holder);
    told = true;
    await clock.sleep(Math.min(100, Math.max(1, deadline - clock.now())));
  }
}
