// Keeps the event loop turning while runs go on. A node that settles without I/O (a transform, a
// condition) reports through promise callbacks alone, and the successor it sets off does the same: a
// 10,000-node fan-out ran from its first node to its last inside one drain of the microtask queue, and a
// 100,000-node one for over a minute, with no timer (lease renewal), socket or database reply served
// meanwhile. Past a budget of continuous work, node starts wait, in order, for later turns.

/**
 * Continuous work (ms) after which node starts wait for a later turn of the event loop. Small enough
 * for timers and sockets; large enough that each turn's database writes take many commits at once
 * (at 10 ms, PGlite, which writes on this thread, took 3× as long for a 2,000-node fan-out).
 */
export const turnBudgetMs = 50;

// Captured at load: a test faking timers must not stall the engine.
const nextTurn = setImmediate;

/** When the work counted against this turn began; `counting` is reset once the loop turns. */
let since = 0;
let counting = false;
const waiting: ((() => void) | undefined)[] = [];
let head = 0;
/** A later turn will take the waiting work up, or this one is taking it up now. */
let resuming = false;

function turned(): void {
  counting = false;
}

function overBudget(): boolean {
  const now = performance.now();
  if (!counting) {
    counting = true;
    since = now;
    nextTurn(turned);
  }
  return now - since >= turnBudgetMs;
}

/**
 * Calls `work` now, or, when this turn of the event loop has run past the budget (or earlier work
 * waits), on a later turn, after timers and I/O had theirs. Waiting work runs in call order, one at a
 * time with the microtasks it sets off in between, up to the budget per turn.
 */
export function withinTurn(work: () => void): void {
  if (head === waiting.length && !overBudget()) return work();
  waiting.push(work);
  if (!resuming) (resuming = true), nextTurn(resume);
}

function resume(): void {
  counting = true;
  since = performance.now();
  nextTurn(turned);
  next();
}

function next(): void {
  if (head === waiting.length) {
    waiting.length = head = 0;
    resuming = false;
    return;
  }
  if (performance.now() - since >= turnBudgetMs) return void nextTurn(resume);
  const work = waiting[head]!;
  waiting[head++] = undefined;
  try {
    work();
  } finally {
    // After the microtasks `work` queued so far: the waiting work shares the turn with what it set off.
    queueMicrotask(next);
  }
}
