/** Entry of `npm run bench`: built by Vite (vite.node.config.ts, the shaders are inlined) and run with node. */
import { runBenchCli } from './cli.js';

runBenchCli(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
