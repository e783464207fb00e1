#!/usr/bin/env node
// The `edx2bq` command. The sources are TypeScript run by Node 24's type stripping.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`edx2bq needs Node 24 or newer (this is ${process.version}); run it through npx or npm scripts, which use the project's Node 24\n`);
  process.exit(2);
}
// the sources, stripped and compiled, come from Node's compile cache after the first run
const { enableCompileCache } = await import('../src/compileCache.ts');
enableCompileCache();
const { main } = await import('../src/cli.ts');
await main(process.argv);
