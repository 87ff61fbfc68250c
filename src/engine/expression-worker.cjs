// The expression pool's entry for piscina, which loads a worker's file with require() before trying
// import(): Node 20's require() of an ES module aborted a whole test process once under load (an
// assertion in ModuleWrap::CreateRequiredModuleFacade). This CommonJS file import()s the module instead.
'use strict';

let evaluate;

module.exports = async function evaluateTask(task) {
  evaluate ??= (await import('./expression-worker.mjs')).default;
  return evaluate(task);
};
