// Gates on node starts, shared by the runs of one engine: an organization's maxRunningNodes (nodes
// RUNNING at once across its runs driven here) and a hold on every new start while the process sheds
// load. A node that may not start stays PENDING with the gate's reason; its run is woken to try again.

/** Where the engine reads an organization's maxRunningNodes. */
export interface RunningNodeLimits {
  /**
   * The organization's limit (null: none), or undefined while it is not known yet (its nodes then wait
   * until `onChange` says it is). Read at every node start: keep it a cached, synchronous lookup.
   */
  limitOf(organizationId: string): number | null | undefined;
  /** Takes the engine's listener, to be called when an organization's limit or share changed or became known. */
  onChange(listener: (organizationId: string) => void): void;
  /**
   * Several processes: how many of the organization's nodes may run in this engine (its share of the
   * limit); the whole limit when absent. Read with the limit at every start of a limited organization.
   */
  shareOf?(organizationId: string): number;
  /**
   * Told, for a limited organization, how many of its nodes run in this engine and whether more wait:
   * where a share grows (nodes wait) or shrinks (slots left unused).
   */
  demand?(organizationId: string, running: number, waiting: boolean): void;
}

/**
 * Holds new node starts (load shedding): returns null while nodes may start, else a promise that
 * resolves once they may again. Asked before every node start; return the same promise while the
 * hold lasts (each run waits on it once).
 */
export type StartGate = () => PromiseLike<unknown> | null;

/** The reason of a node held by the start gate. */
export const sheddingReason = 'this server is shedding load: new node starts are delayed';
/** The reason of a node whose organization's limit is being read. */
export const readingLimitReason = "reading the organization's limits";
export const organizationLimitReason = (limit: number) => `organization limit of ${limit} running node${limit === 1 ? '' : 's'}`;

/** One run's side of the gates. */
export interface RunGate {
  /**
   * A slot for one node start: null when the node may start (the slot is taken), else the reason it
   * waits. The run is then woken (`wake`) once it may try again.
   */
  take(): string | null;
  /** Takes a slot whatever the limit: a node that was running when its run was restored. */
  force(): void;
  /** A node that held a slot settled. */
  give(): void;
  /** Hands back slots handed to this run that it did not use (called after each round of starts). */
  spare(): void;
  /** The run ended: every slot it holds goes back. Idempotent. */
  close(): void;
}

interface Organization {
  id: string;
  /** Slots in use across its runs, granted-but-unused ones included. */
  running: number;
  /** Runs waiting for a slot, in arrival order. */
  queue: Set<Gate>;
  /** Its runs with a gate not closed yet: forgotten when none is left. */
  runs: number;
}

interface Gate extends RunGate {
  /** Slots handed over while it waited (already counted in `running`). */
  granted: number;
  wake(): void;
}

/** Creates the gates of one engine; `forRun` is undefined (no cost) when neither limits nor a start gate are given. */
export function createNodeGates(options: { limits?: RunningNodeLimits | undefined; startGate?: StartGate | undefined }) {
  const { limits, startGate } = options;
  const organizations = new Map<string, Organization>();

  /** Hands free slots to waiting runs, first come first served. */
  function dispatch(org: Organization): void {
    if (org.queue.size === 0) return;
    const cap = capOf(org.id);
    if (cap === undefined) return;
    for (const gate of org.queue) {
      if (cap !== null && org.running >= cap) break;
      org.queue.delete(gate);
      gate.granted++;
      org.running++;
      gate.wake();
    }
    // Runs still wait: a share that may grow hears of it.
    if (org.queue.size > 0) report(org);
  }

  /** How many of the organization's nodes may run here: its limit, or this engine's share of it. */
  function capOf(id: string): number | null | undefined {
    const limit = limits!.limitOf(id);
    return limit === null || limit === undefined || limits!.shareOf === undefined ? limit : Math.min(limit, limits!.shareOf(id));
  }

  /** Tells the limits source where the organization stands here (only when it has a limit and listens). */
  function report(org: Organization): void {
    if (limits!.demand !== undefined && typeof limits!.limitOf(org.id) === 'number') limits!.demand(org.id, org.running, org.queue.size > 0);
  }

  limits?.onChange((id) => {
    const org = organizations.get(id);
    if (org) dispatch(org);
  });

  function organizationOf(id: string): Organization {
    let org = organizations.get(id);
    if (org === undefined) organizations.set(id, (org = { id, running: 0, queue: new Set(), runs: 0 }));
    return org;
  }

  function forRun(organizationId: string | undefined, wake: () => void): RunGate | undefined {
    const org = limits && organizationId !== undefined ? organizationOf(organizationId) : undefined;
    if (org === undefined && startGate === undefined) return undefined;
    if (org !== undefined) org.runs++;
    let held = 0;
    let closed = false;
    let waitingOn: PromiseLike<unknown> | undefined;
    const wakeOnce = () => {
      waitingOn = undefined;
      if (!closed) wake();
    };
    const gate: Gate = {
      granted: 0,
      wake: () => {
        if (!closed) wake();
      },
      take() {
        if (startGate !== undefined) {
          const hold = startGate();
          if (hold !== null) {
            if (hold !== waitingOn) (waitingOn = hold).then(wakeOnce, wakeOnce);
            return sheddingReason;
          }
        }
        if (org === undefined) return null;
        if (gate.granted > 0) {
          gate.granted--;
          held++;
          return null;
        }
        const limit = limits!.limitOf(org.id);
        const first = org.queue.size === 0 || org.queue.values().next().value === gate;
        if (limit === null || (limit !== undefined && first && org.running < capOf(org.id)!)) {
          org.queue.delete(gate);
          org.running++;
          held++;
          return null;
        }
        org.queue.add(gate);
        report(org);
        return limit === undefined ? readingLimitReason : organizationLimitReason(limit);
      },
      force() {
        if (org === undefined) return;
        org.running++;
        held++;
      },
      give() {
        if (org === undefined || held === 0) return;
        held--;
        org.running--;
        dispatch(org);
        report(org);
      },
      spare() {
        if (org === undefined || gate.granted === 0) return;
        org.running -= gate.granted;
        gate.granted = 0;
        dispatch(org);
      },
      close() {
        if (closed) return;
        closed = true;
        if (org === undefined) return;
        org.queue.delete(gate);
        org.running -= held + gate.granted;
        held = gate.granted = 0;
        if (--org.runs === 0) organizations.delete(org.id);
        else dispatch(org);
        report(org);
      },
    };
    return gate;
  }

  return { forRun };
}

export type NodeGates = ReturnType<typeof createNodeGates>;
