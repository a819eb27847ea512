/** Types of examples/serve.mjs (plain JavaScript so that `node` runs it without a build). */
import type { Server } from 'node:http';

export declare const REPO_ROOT: string;
export declare function serveStatic(options?: { root?: string; port?: number; mounts?: Record<string, string> }): Promise<{ server: Server; origin: string; close(): Promise<void> }>;
