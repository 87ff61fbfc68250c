// The drizzle schema: organizations and keys, versioned workflows, runs with their steps, branches and events, secrets.
import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

// The same words as the engine's unions (src/engine/events.ts); test/db/schema.test.ts keeps them equal.
export const runStatus = pgEnum('run_status', ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']);
export const stepStatus = pgEnum('step_status', ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED']);
export const branchStatus = pgEnum('branch_status', ['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']);
export const role = pgEnum('role', ['ADMIN', 'EDITOR', 'VIEWER']);
export const runEventType = pgEnum('run_event_type', [
  'RUN_STARTED',
  'NODE_STARTED',
  'NODE_RETRYING',
  'NODE_SUCCEEDED',
  'NODE_FAILED',
  'NODE_SKIPPED',
  'NODE_CANCELLED',
  'BRANCH_STARTED',
  'BRANCH_FINISHED',
  'RUN_SUCCEEDED',
  'RUN_FAILED',
  'RUN_CANCELLED',
  'RUN_RESUMED',
  'RUN_RETRIED',
]);

const createdAt = () => timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow();
const time = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: createdAt(),
  /** Most runs of the organization holding a slot (claimed, lease alive) at once; null: unlimited. */
  maxConcurrentRuns: integer('max_concurrent_runs'),
  /** Most nodes running at once across the organization's runs; null: unlimited (enforced by the engine). */
  maxRunningNodes: integer('max_running_nodes'),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    role: role('role').notNull(),
    /** sha256 of the secret, hex; the secret itself is never stored. */
    keyHash: text('key_hash').notNull().unique(),
    createdAt: createdAt(),
    /** Set by revokeApiKey: the key is refused from then on, and stays listed. */
    revokedAt: time('revoked_at'),
    /** When the key was last used, to within a minute (written at most once a minute per key and process). */
    lastUsedAt: time('last_used_at'),
  },
  (t) => [index('api_keys_organization_idx').on(t.organizationId)],
);

export const workflows = pgTable(
  'workflows',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    version: integer('version').notNull(),
    createdAt: createdAt(),
    updatedAt: time('updated_at').notNull().defaultNow(),
  },
  (t) => [index('workflows_organization_idx').on(t.organizationId, t.createdAt, t.id)],
);

export const workflowVersions = pgTable(
  'workflow_versions',
  {
    workflowId: text('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    definition: jsonb('definition').notNull(),
    createdAt: createdAt(),
    /**
     * The definition's settings.maxConcurrentRuns (null: unlimited), computed by the database on
     * insert, so the claim query reads a column instead of the (possibly large) definition.
     */
    maxConcurrentRuns: integer('max_concurrent_runs').generatedAlwaysAs(
      sql`case when jsonb_typeof(definition #> '{settings,maxConcurrentRuns}') = 'number' then (definition #>> '{settings,maxConcurrentRuns}')::numeric::integer end`,
    ),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.version] })],
);

export const runs = pgTable(
  'runs',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    workflowId: text('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    workflowVersion: integer('workflow_version').notNull(),
    status: runStatus('status').notNull(),
    input: jsonb('input'),
    output: jsonb('output'),
    error: text('error'),
    idempotencyKey: text('idempotency_key'),
    createdAt: createdAt(),
    startedAt: time('started_at'),
    finishedAt: time('finished_at'),
    /** When the run times out (settings.timeoutMs from its first start, or from its latest retry). */
    deadlineAt: time('deadline_at'),
    /** How many times retryRun reopened it. */
    retries: integer('retries').notNull().default(0),
    /** The process driving the run, while its lease holds. */
    owner: text('owner'),
    leaseUntil: time('lease_until'),
    /** Bumped by every claim: a commit carrying an older epoch writes nothing (fencing). */
    epoch: integer('epoch').notNull().default(0),
    /** Set by cancelRun on any process; the owner (or whoever claims the run next) cancels it. */
    cancelRequested: text('cancel_requested'),
    /** startRun's priority: among runs waiting for a slot, higher starts first. */
    priority: integer('priority').notNull().default(0),
  },
  (t) => [
    uniqueIndex('runs_idempotency_idx').on(t.organizationId, t.idempotencyKey).where(sql`idempotency_key is not null`),
    index('runs_organization_idx').on(t.organizationId, t.createdAt, t.id),
    index('runs_workflow_idx').on(t.workflowId, t.createdAt, t.id),
    index('runs_unfinished_idx').on(t.status).where(sql`status in ('QUEUED', 'RUNNING')`),
    /** The claim query's order within an organization, and its count of the organization's slots. */
    index('runs_queue_idx')
      .on(t.organizationId, t.priority.desc(), t.createdAt, t.id)
      .where(sql`status in ('QUEUED', 'RUNNING')`),
    /** Retention finds finished runs past the cutoff, oldest first. */
    index('runs_finished_idx').on(t.finishedAt).where(sql`finished_at is not null`),
  ],
);

export const steps = pgTable(
  'steps',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    nodeId: text('node_id').notNull(),
    nodeType: text('node_type').notNull(),
    status: stepStatus('status').notNull(),
    attempt: integer('attempt').notNull(),
    branch: text('branch'),
    startedAt: time('started_at'),
    finishedAt: time('finished_at'),
    input: jsonb('input'),
    output: jsonb('output'),
    error: text('error'),
    reason: text('reason'),
    /** The handle a condition or switch chose (which of its edges are live). */
    handle: text('handle'),
    /** While waiting between attempts: when the next attempt (`attempt`) starts. */
    retryAt: time('retry_at'),
    /** A node's own durable wait (a delay's deadline, its templates evaluated). */
    wakeAt: time('wake_at'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.nodeId] })],
);

export const branches = pgTable(
  'branches',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    status: branchStatus('status').notNull(),
    nodeIds: jsonb('node_ids').$type<string[]>().notNull(),
    startedAt: time('started_at').notNull(),
    finishedAt: time('finished_at'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.id] })],
);

export const runEvents = pgTable(
  'run_events',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    type: runEventType('type').notNull(),
    at: time('at').notNull(),
    nodeId: text('node_id'),
    branch: text('branch'),
    status: text('status').notNull(),
    attempt: integer('attempt'),
    error: text('error'),
    reason: text('reason'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

/**
 * Secrets of an organization: the value only as AES-256-GCM ciphertext (src/db/secret-cipher.ts),
 * its organization and name bound as associated data. Each column is base64.
 */
export const secrets = pgTable(
  'secrets',
  {
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    ciphertext: text('ciphertext').notNull(),
    /** 12 random bytes, new for every value written. */
    iv: text('iv').notNull(),
    authTag: text('auth_tag').notNull(),
    createdAt: createdAt(),
    updatedAt: time('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.name] })],
);

/**
 * One row: a fixed text encrypted under the key the secrets are stored under (src/db/queries/
 * secrets-key-check.ts), so that a process holding another key finds out before it writes a value no
 * other process could read. Rotation replaces it in the transaction that re-encrypts the secrets.
 */
export const secretsKeyCheck = pgTable(
  'secrets_key_check',
  {
    id: integer('id').primaryKey().default(1),
    ciphertext: text('ciphertext').notNull(),
    iv: text('iv').notNull(),
    authTag: text('auth_tag').notNull(),
    updatedAt: time('updated_at').notNull().defaultNow(),
  },
  (t) => [check('secrets_key_check_one_row', sql`${t.id} = 1`)],
);

export type OrganizationRow = typeof organizations.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type WorkflowRow = typeof workflows.$inferSelect;
export type WorkflowVersionRow = typeof workflowVersions.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type StepRow = typeof steps.$inferSelect;
export type BranchRow = typeof branches.$inferSelect;
export type RunEventRow = typeof runEvents.$inferSelect;
export type SecretRow = typeof secrets.$inferSelect;

/**
 * Request budgets shared by every process on one PostgreSQL (src/schema/key-budget.ts): one row per
 * API key and window, in the layout of rate-limiter-flexible's RateLimiterDrizzle.
 */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  points: integer('points').notNull().default(0),
  expire: time('expire'),
});
