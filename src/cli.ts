#!/usr/bin/env node
import { main } from './cli/main.js';

// A reader that stops early (`kumo simulate -v … | head`) closes the pipe. The command
// goes on to its end — a simulation still writes its report — with its output dropped,
// rather than dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stream.write = () => true;
  });

process.exitCode = await main(process.argv.slice(2));
