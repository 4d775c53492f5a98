#!/usr/bin/env node
// The published entry: runs the compiled CLI (npm ci builds dist/ through `prepare`).
import '../dist/cli.js';
