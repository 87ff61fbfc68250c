// Which waiting runs take the free slots: priority first within an organization, organizations in
// turns (the one holding the fewest slots goes next), never past an organization's or a workflow's
// maxConcurrentRuns. A slot is held by an unfinished run whose lease is alive. A run nobody holds waits
// for one, QUEUED or RUNNING alike: one whose owner died while it ran (its lease lapsed) waits in the
// same order as the runs never started.
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../client.js';

/** The unfinished runs holding a slot now. */
export const slotHolders = sql`status in ('QUEUED', 'RUNNING') and owner is not null and lease_until > now()`;

/** The unfinished runs nobody holds: waiting for a slot (or orphaned by a dead owner). */
export const waitingRuns = sql`status in ('QUEUED', 'RUNNING') and (owner is null or lease_until < now())`;

/**
 * The ids of up to `limit` waiting runs that may start now, in the order they should, and the
 * organizations and workflows whose limit holds waiting runs back. One statement over one snapshot: run it where no other claim can
 * commit meanwhile (claimRuns holds a lock), or two claimers could both fill the last slot.
 *
 * Bounded work: each organization with unfinished runs (found by a skip scan of runs_queue_idx) gives
 * only its first waiting runs in its order (index order, no sort): as many as it has room for plus one
 * (to tell that more wait), at most `limit`; runs of a workflow at its limit are skipped there.
 */
export async function pickWaitingRuns(db: Db, limit: number): Promise<{ ids: string[]; heldBy: HeldBy }> {
  const rows = await db.execute(sql`
    with recursive orgs(id) as (
      (select organization_id from runs where status in ('QUEUED', 'RUNNING') order by organization_id limit 1)
      union all
      select (select r.organization_id from runs r where r.status in ('QUEUED', 'RUNNING') and r.organization_id > orgs.id
        order by r.organization_id limit 1)
      from orgs where orgs.id is not null
    ),
    holders as (select organization_id, workflow_id from runs where ${slotHolders}),
    org_used as (select organization_id, count(*) as n from holders group by organization_id),
    wf_used as (select workflow_id, count(*) as n from holders group by workflow_id),
    wf_full as (
      select w.id as workflow_id, w.organization_id from wf_used u
        join workflows w on w.id = u.workflow_id
        join workflow_versions v on v.workflow_id = w.id and v.version = w.version
      where u.n >= v.max_concurrent_runs
    ),
    candidates as (
      select c.*, o.max_concurrent_runs as org_lim, coalesce(u.n, 0) as org_n
      from orgs join organizations o on o.id = orgs.id
        left join org_used u on u.organization_id = o.id
        cross join lateral (
          select r.id, r.organization_id, r.workflow_id, r.priority, r.created_at from runs r
          where r.organization_id = o.id and ${waitingRuns}
            and not exists (select 1 from wf_full f where f.workflow_id = r.workflow_id)
          order by r.priority desc, r.created_at, r.id
          limit case when o.max_concurrent_runs is null or o.max_concurrent_runs - coalesce(u.n, 0) >= ${limit} then ${limit}
            else greatest(o.max_concurrent_runs - coalesce(u.n, 0), 0) + 1 end
        ) c
    ),
    wf_checked as (
      select c.*, l.lim as wf_lim, coalesce(wu.n, 0) as wf_n,
        row_number() over (partition by c.workflow_id order by c.priority desc, c.created_at, c.id) as wf_rank
      from candidates c
        left join (
          select w.id, v.max_concurrent_runs as lim from workflows w
            join workflow_versions v on v.workflow_id = w.id and v.version = w.version
          where w.id in (select workflow_id from candidates) and v.max_concurrent_runs is not null
        ) l on l.id = c.workflow_id
        left join wf_used wu on wu.workflow_id = c.workflow_id
    ),
    org_checked as (
      select q.id, q.organization_id, q.priority, q.created_at, q.org_lim,
        q.org_n + row_number() over (partition by q.organization_id order by q.priority desc, q.created_at, q.id) as turn
      from wf_checked q where q.wf_lim is null or q.wf_rank + q.wf_n <= q.wf_lim
    ),
    eligible as (select id, priority, created_at, turn from org_checked where org_lim is null or turn <= org_lim)
    select p.id, h.orgs, h.workflows
    from (
      select
        array(select distinct organization_id from org_checked where org_lim is not null and turn > org_lim) as orgs,
        array(select distinct workflow_id from wf_checked where wf_lim is not null and wf_rank + wf_n > wf_lim)
          || array(select f.workflow_id from wf_full f where exists (
            select 1 from runs r where r.organization_id = f.organization_id and r.workflow_id = f.workflow_id
              and r.status in ('QUEUED', 'RUNNING') and (r.owner is null or r.lease_until < now()))) as workflows
    ) h
      left join (select id from eligible order by turn, priority desc, created_at, id limit ${limit}) p on true`);
  const picked = rowsOf<{ id: string | null; orgs: string[] | string; workflows: string[] | string }>(rows);
  return {
    ids: picked.flatMap((row) => (row.id === null ? [] : [row.id])),
    heldBy: { organizations: textArray(picked[0]?.orgs), workflows: textArray(picked[0]?.workflows) },
  };
}

/** The organizations and workflows whose limit holds waiting runs back (a run of theirs ending frees a slot one may take). */
export interface HeldBy {
  organizations: string[];
  workflows: string[];
}

/** A text[] as the driver gives it: an array, or Postgres text (`{a,b}`) under drizzle's raw parsing. */
function textArray(value: string[] | string | undefined): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  const inner = value.slice(1, -1);
  return inner === '' ? [] : inner.split(',').map((item) => item.replace(/^"(.*)"$/, '$1'));
}

/**
 * What holds a waiting run back, in words (`organization limit of 2 running runs`), or null when no
 * limit does. Read at once for many runs of an organization: one statement per call.
 */
export async function limitsHolding(
  db: Db,
  organizationId: string,
  workflowIds: readonly string[],
): Promise<{ organization: string | null; workflows: Map<string, string | null> }> {
  const rows = rowsOf<{ kind: 'org' | 'wf'; id: string; lim: number | null; used: number | string }>(
    await db.execute(sql`
      select 'org' as kind, o.id, o.max_concurrent_runs as lim,
        (select count(*) from runs r where r.organization_id = o.id and ${slotHolders}) as used
      from organizations o where o.id = ${organizationId}
      union all
      select 'wf', w.id, v.max_concurrent_runs,
        (select count(*) from runs r where r.organization_id = w.organization_id and r.workflow_id = w.id
          and ${slotHolders})
      from workflows w join workflow_versions v on v.workflow_id = w.id and v.version = w.version
      where w.organization_id = ${organizationId} and w.id in (select json_array_elements_text(${JSON.stringify(workflowIds)}::json))
        and v.max_concurrent_runs is not null`),
  );
  const holding = (scope: string, lim: number | null, used: number) =>
    lim !== null && used >= lim ? `${scope} limit of ${lim} running run${lim === 1 ? '' : 's'}` : null;
  const workflows = new Map<string, string | null>(workflowIds.map((id) => [id, null]));
  let organization: string | null = null;
  for (const row of rows) {
    if (row.kind === 'org') organization = holding('organization', row.lim, Number(row.used));
    else workflows.set(row.id, holding('workflow', row.lim, Number(row.used)));
  }
  return { organization, workflows };
}

/** Whether an organization or a workflow (its current version) has a maxConcurrentRuns now. */
export async function hasRunLimit(db: Db, organizationId: string, workflowId: string): Promise<boolean> {
  const [row] = rowsOf<{ limited: boolean }>(
    await db.execute(sql`
      select exists (select 1 from organizations where id = ${organizationId} and max_concurrent_runs is not null)
        or exists (select 1 from workflows w join workflow_versions v on v.workflow_id = w.id and v.version = w.version
          where w.id = ${workflowId} and v.max_concurrent_runs is not null) as limited`),
  );
  return row?.limited ?? false;
}
