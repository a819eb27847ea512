#!/usr/bin/env node
/** The `webgpu-xai` executable: one line per failure, exit 2 for user errors, 1 for bugs. */
import { XaiError } from '../index.js';
import { runCli } from './main.js';

runCli(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const known = error instanceof XaiError || (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS');
    console.error(`webgpu-xai: ${known ? (error as Error).message : ((error as Error)?.stack ?? String(error))}`);
    process.exit(known ? 2 : 1);
  },
);
