'use strict';
// The pool's entry file. Piscina loads a worker's file with require(); for an ES module that
// goes through Node's require(esm) path, which aborts the whole process (an assertion in
// ModuleWrap::CreateRequiredModuleFacade) when the worker is terminated while the module is
// being instantiated — seen once in a full test run, when a pool was destroyed as a worker was
// still starting. This CommonJS file loads the handlers with import() instead, whose failure
// under termination is an ordinary rejection. The handlers themselves are in log-worker.ts.
const handlers = import('./log-worker.ts');
// a load error reaches each task that awaits the handlers, not the worker as an unhandled rejection
handlers.catch(() => {});

const forward = (name) => async (task) => (await handlers)[name](task);

module.exports = {
  split: forward('split'),
  compress: forward('compress'),
  aggregate: forward('aggregate'),
  parse: forward('parse'),
  default: forward('default'),
};
