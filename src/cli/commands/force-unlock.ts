import { hostname } from 'node:os';
import type { Command } from 'commander';
import { Conflict } from '../../core/index.js';
import { describeHolder, holderAlive } from '../../logical-dc/index.js';
import { confirm, requireYesOrTerminal } from '../confirm.js';
import { addDcOptions, type DcOptions } from '../dc-command.js';
import { printJson } from '../output.js';
import { loadDatacenter } from '../spec-loader.js';

/**
 * `kumo force-unlock`: removes the state lock of a run that is gone but cannot be seen
 * to be — one on another host (a CI runner or container that died mid-apply) is taken
 * to be alive, so its lock would otherwise stay for ever.
 */
export function registerForceUnlock(program: Command): void {
  addDcOptions(program.command('force-unlock'))
    .description(
      'remove the state lock of a run that is gone (one on another host cannot be seen to have died)',
    )
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .action(async (opts: DcOptions & { yes?: boolean }) => {
      requireYesOrTerminal(opts.yes, 'force-unlock');
      const { dc } = await loadDatacenter(opts.file, {
        ...(opts.stateDb ? { state: opts.stateDb } : {}),
        readOnly: true,
      });
      try {
        const holder = await dc.store.lockHolder();
        if (holder === undefined) {
          if (opts.json) return printJson({ holder: null, removed: false });
          process.stdout.write(`State ${dc.store.location} is not locked.\n`);
          return;
        }
        const who = describeHolder(holder);
        // A live run here would go on writing state under no lock: it must be stopped, not unlocked.
        if (holder.host === hostname() && holderAlive(holder))
          throw new Conflict(`the lock is held by a live run on this host, ${who}; stop it first`);
        if (opts.yes !== true) {
          process.stdout.write(`State ${dc.store.location} is locked by ${who}.\n`);
          if (
            !(await confirm('Remove this lock? Only if that run is gone.', false, 'force-unlock'))
          ) {
            process.stdout.write('Lock left in place.\n');
            return;
          }
        }
        // Only the holder just shown: a run that took the lock since keeps it.
        const removed = await dc.store.breakLock(holder);
        if (removed === undefined)
          throw new Conflict(
            'the lock changed while asking; nothing removed — run again to see who holds it now',
          );
        if (opts.json) return printJson({ holder: removed, removed: true });
        process.stdout.write(
          `Removed the lock of ${who}. Whatever that run left journaled is resumed by the next kumo apply.\n`,
        );
      } finally {
        await dc.close();
      }
    });
}
