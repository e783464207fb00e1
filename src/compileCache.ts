import module from 'node:module';

/**
 * Turns on Node's on-disk compile cache (the type-stripped TypeScript and V8's code for it, in
 * os.tmpdir()/node-compile-cache unless NODE_COMPILE_CACHE names another directory) for this
 * process and, through NODE_COMPILE_CACHE, for the worker threads it starts later. Without it,
 * every worker strips and compiles the sources it loads anew: a pool of 2 log workers took
 * ~350 ms and ~0.75 CPU-s to start, against ~170 ms and ~0.3 CPU-s with it (docs/benchmarks.md).
 * Quiet by design, as Node's own API: a cache that cannot be used changes nothing else.
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
export function enableCompileCache(): void {
  const result = module.enableCompileCache?.();
  if (result?.directory !== undefined && process.env.NODE_COMPILE_CACHE === undefined) process.env.NODE_COMPILE_CACHE = result.directory;
}
