import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** A prompt that never gets an answer: the test ends it with Ctrl-C or Ctrl-D. */
class Prompt extends EventEmitter {
  question(): Promise<string> {
    return new Promise(() => undefined);
  }
  close(): void {
    this.emit('close');
  }
}
const prompt = { current: new Prompt() };
vi.mock('node:readline/promises', () => ({ createInterface: () => prompt.current }));
const { confirm } = await import('../../src/cli/confirm.js');
const { exitCodeFor } = await import('../../src/cli/output.js');

const tty = process.stdin.isTTY;
beforeEach(() => {
  prompt.current = new Prompt();
  Object.defineProperty(process.stdin, 'isTTY', { value: true, configurable: true });
});
afterEach(() => {
  Object.defineProperty(process.stdin, 'isTTY', { value: tty, configurable: true });
});

describe('asking before a change', () => {
  it('takes Ctrl-D (end of input) as no', async () => {
    const answer = confirm('Destroy everything?', false, 'destroy');
    prompt.current.close();
    expect(await answer).toBe(false);
  });

  it('stops the command on Ctrl-C with the interrupt exit code, 130', async () => {
    const answer = confirm('Apply these changes?', false, 'apply');
    prompt.current.emit('SIGINT');
    const err = await answer.catch((e: unknown) => e);
    expect(String(err)).toContain('interrupted at the prompt; nothing was applied');
    expect(exitCodeFor(err)).toBe(130);
  });
});
