/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type BranchStatus =
  | 'CANCELLED'
  | 'FAILED'
  | 'RUNNING'
  | 'SUCCEEDED';

/** PENDING until the source settles; LIVE when it succeeded and chose this edge; DEAD otherwise. */
export type EdgeState =
  | 'DEAD'
  | 'LIVE'
  | 'PENDING';

export type RunEventType =
  | 'BRANCH_FINISHED'
  | 'BRANCH_STARTED'
  | 'NODE_CANCELLED'
  | 'NODE_FAILED'
  | 'NODE_RETRYING'
  | 'NODE_SKIPPED'
  | 'NODE_STARTED'
  | 'NODE_SUCCEEDED'
  | 'RUN_CANCELLED'
  | 'RUN_FAILED'
  | 'RUN_RESUMED'
  | 'RUN_RETRIED'
  | 'RUN_STARTED'
  | 'RUN_SUCCEEDED';

export type RunStatus =
  | 'CANCELLED'
  | 'FAILED'
  | 'QUEUED'
  | 'RUNNING'
  | 'SUCCEEDED';

export type StepStatus =
  | 'CANCELLED'
  | 'FAILED'
  | 'PENDING'
  | 'RUNNING'
  | 'SKIPPED'
  | 'SUCCEEDED';

export type DashboardRunDefinitionQueryVariables = Exact<{
  id: string;
}>;


export type DashboardRunDefinitionQuery = { run: { id: string, definition: unknown } | null };

export type DashboardRunStateQueryVariables = Exact<{
  id: string;
}>;


export type DashboardRunStateQuery = { run: { id: string, status: RunStatus, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, workflowVersion: number, retries: number, workflow: { id: string, name: string }, edges: Array<{ source: string, target: string, sourceHandle: string | null, state: EdgeState }>, steps: Array<{ nodeId: string, nodeType: string, status: StepStatus, attempt: number, branch: string | null, startedAt: string | null, finishedAt: string | null, durationMs: number | null, input: unknown, output: unknown, error: string | null, reason: string | null }>, branches: Array<{ id: string, status: BranchStatus, nodeIds: Array<string>, startedAt: string, finishedAt: string | null }>, timing: { criticalPath: Array<string>, criticalPathMs: number, workMs: number, parallelism: number } | null } | null };

export type DashboardRunEventsSubscriptionVariables = Exact<{
  runId: string;
  afterSeq?: number | null | undefined;
}>;


export type DashboardRunEventsSubscription = { runEvents: { seq: number, type: RunEventType, at: string, nodeId: string | null, branch: string | null, status: string, attempt: number | null, error: string | null } };

export type DashboardCancelRunMutationVariables = Exact<{
  id: string;
}>;


export type DashboardCancelRunMutation = { cancelRun:
    | { __typename: 'ForbiddenError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'Run', id: string, status: RunStatus }
   };

export type DashboardRetryRunMutationVariables = Exact<{
  id: string;
}>;


export type DashboardRetryRunMutation = { retryRun:
    | { __typename: 'ForbiddenError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'Run', id: string, status: RunStatus }
    | { __typename: 'ValidationError', message: string }
   };

export type DashboardRunRowFragment = { id: string, status: RunStatus, createdAt: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, error: string | null, workflowVersion: number, workflow: { id: string, name: string } };

export type DashboardRunsQueryVariables = Exact<{
  first?: number | null | undefined;
}>;


export type DashboardRunsQuery = { runs: { totalCount: number, edges: Array<{ node: { id: string, status: RunStatus, createdAt: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, error: string | null, workflowVersion: number, workflow: { id: string, name: string } } }> } };

export type DashboardRunUpdatesSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type DashboardRunUpdatesSubscription = { runUpdates: { id: string, status: RunStatus, createdAt: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, error: string | null, workflowVersion: number, workflow: { id: string, name: string } } };

export type DashboardWhoAmIQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardWhoAmIQuery = { organization: { id: string, name: string } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const DashboardRunRowFragmentDoc = new TypedDocumentString(`
    fragment DashboardRunRow on Run {
  id
  status
  createdAt
  startedAt
  finishedAt
  durationMs
  error
  workflowVersion
  workflow {
    id
    name
  }
}
    `, {"fragmentName":"DashboardRunRow"}) as unknown as TypedDocumentString<DashboardRunRowFragment, unknown>;
export const DashboardRunDefinitionDocument = new TypedDocumentString(`
    query DashboardRunDefinition($id: ID!) {
  run(id: $id) {
    id
    definition
  }
}
    `) as unknown as TypedDocumentString<DashboardRunDefinitionQuery, DashboardRunDefinitionQueryVariables>;
export const DashboardRunStateDocument = new TypedDocumentString(`
    query DashboardRunState($id: ID!) {
  run(id: $id) {
    id
    status
    error
    createdAt
    startedAt
    finishedAt
    durationMs
    workflowVersion
    retries
    workflow {
      id
      name
    }
    edges {
      source
      target
      sourceHandle
      state
    }
    steps {
      nodeId
      nodeType
      status
      attempt
      branch
      startedAt
      finishedAt
      durationMs
      input
      output
      error
      reason
    }
    branches {
      id
      status
      nodeIds
      startedAt
      finishedAt
    }
    timing {
      criticalPath
      criticalPathMs
      workMs
      parallelism
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardRunStateQuery, DashboardRunStateQueryVariables>;
export const DashboardRunEventsDocument = new TypedDocumentString(`
    subscription DashboardRunEvents($runId: ID!, $afterSeq: Int) {
  runEvents(runId: $runId, afterSeq: $afterSeq) {
    seq
    type
    at
    nodeId
    branch
    status
    attempt
    error
  }
}
    `) as unknown as TypedDocumentString<DashboardRunEventsSubscription, DashboardRunEventsSubscriptionVariables>;
export const DashboardCancelRunDocument = new TypedDocumentString(`
    mutation DashboardCancelRun($id: ID!) {
  cancelRun(id: $id) {
    __typename
    ... on Run {
      id
      status
    }
    ... on Error {
      message
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardCancelRunMutation, DashboardCancelRunMutationVariables>;
export const DashboardRetryRunDocument = new TypedDocumentString(`
    mutation DashboardRetryRun($id: ID!) {
  retryRun(id: $id) {
    __typename
    ... on Run {
      id
      status
    }
    ... on Error {
      message
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardRetryRunMutation, DashboardRetryRunMutationVariables>;
export const DashboardRunsDocument = new TypedDocumentString(`
    query DashboardRuns($first: Int) {
  runs(first: $first) {
    totalCount
    edges {
      node {
        ...DashboardRunRow
      }
    }
  }
}
    fragment DashboardRunRow on Run {
  id
  status
  createdAt
  startedAt
  finishedAt
  durationMs
  error
  workflowVersion
  workflow {
    id
    name
  }
}`) as unknown as TypedDocumentString<DashboardRunsQuery, DashboardRunsQueryVariables>;
export const DashboardRunUpdatesDocument = new TypedDocumentString(`
    subscription DashboardRunUpdates {
  runUpdates {
    ...DashboardRunRow
  }
}
    fragment DashboardRunRow on Run {
  id
  status
  createdAt
  startedAt
  finishedAt
  durationMs
  error
  workflowVersion
  workflow {
    id
    name
  }
}`) as unknown as TypedDocumentString<DashboardRunUpdatesSubscription, DashboardRunUpdatesSubscriptionVariables>;
export const DashboardWhoAmIDocument = new TypedDocumentString(`
    query DashboardWhoAmI {
  organization {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<DashboardWhoAmIQuery, DashboardWhoAmIQueryVariables>;