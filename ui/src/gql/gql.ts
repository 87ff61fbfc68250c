/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query DashboardRunDefinition($id: ID!) {\n    run(id: $id) { id definition }\n  }\n": typeof types.DashboardRunDefinitionDocument,
    "\n  query DashboardRunState($id: ID!) {\n    run(id: $id) {\n      id status error createdAt startedAt finishedAt durationMs workflowVersion retries\n      workflow { id name }\n      edges { source target sourceHandle state }\n      steps { nodeId nodeType status attempt branch startedAt finishedAt durationMs input output error reason }\n      branches { id status nodeIds startedAt finishedAt }\n      timing { criticalPath criticalPathMs workMs parallelism }\n    }\n  }\n": typeof types.DashboardRunStateDocument,
    "\n  subscription DashboardRunEvents($runId: ID!, $afterSeq: Int) {\n    runEvents(runId: $runId, afterSeq: $afterSeq) { seq type at nodeId branch status attempt error }\n  }\n": typeof types.DashboardRunEventsDocument,
    "\n  mutation DashboardCancelRun($id: ID!) {\n    cancelRun(id: $id) { __typename ... on Run { id status } ... on Error { message } }\n  }\n": typeof types.DashboardCancelRunDocument,
    "\n  mutation DashboardRetryRun($id: ID!) {\n    retryRun(id: $id) { __typename ... on Run { id status } ... on Error { message } }\n  }\n": typeof types.DashboardRetryRunDocument,
    "\n  fragment DashboardRunRow on Run {\n    id status createdAt startedAt finishedAt durationMs error workflowVersion\n    workflow { id name }\n  }\n": typeof types.DashboardRunRowFragmentDoc,
    "\n  query DashboardRuns($first: Int) {\n    runs(first: $first) { totalCount edges { node { ...DashboardRunRow } } }\n  }\n": typeof types.DashboardRunsDocument,
    "\n  subscription DashboardRunUpdates {\n    runUpdates { ...DashboardRunRow }\n  }\n": typeof types.DashboardRunUpdatesDocument,
    "\n  query DashboardWhoAmI {\n    organization { id name }\n  }\n": typeof types.DashboardWhoAmIDocument,
};
const documents: Documents = {
    "\n  query DashboardRunDefinition($id: ID!) {\n    run(id: $id) { id definition }\n  }\n": types.DashboardRunDefinitionDocument,
    "\n  query DashboardRunState($id: ID!) {\n    run(id: $id) {\n      id status error createdAt startedAt finishedAt durationMs workflowVersion retries\n      workflow { id name }\n      edges { source target sourceHandle state }\n      steps { nodeId nodeType status attempt branch startedAt finishedAt durationMs input output error reason }\n      branches { id status nodeIds startedAt finishedAt }\n      timing { criticalPath criticalPathMs workMs parallelism }\n    }\n  }\n": types.DashboardRunStateDocument,
    "\n  subscription DashboardRunEvents($runId: ID!, $afterSeq: Int) {\n    runEvents(runId: $runId, afterSeq: $afterSeq) { seq type at nodeId branch status attempt error }\n  }\n": types.DashboardRunEventsDocument,
    "\n  mutation DashboardCancelRun($id: ID!) {\n    cancelRun(id: $id) { __typename ... on Run { id status } ... on Error { message } }\n  }\n": types.DashboardCancelRunDocument,
    "\n  mutation DashboardRetryRun($id: ID!) {\n    retryRun(id: $id) { __typename ... on Run { id status } ... on Error { message } }\n  }\n": types.DashboardRetryRunDocument,
    "\n  fragment DashboardRunRow on Run {\n    id status createdAt startedAt finishedAt durationMs error workflowVersion\n    workflow { id name }\n  }\n": types.DashboardRunRowFragmentDoc,
    "\n  query DashboardRuns($first: Int) {\n    runs(first: $first) { totalCount edges { node { ...DashboardRunRow } } }\n  }\n": types.DashboardRunsDocument,
    "\n  subscription DashboardRunUpdates {\n    runUpdates { ...DashboardRunRow }\n  }\n": types.DashboardRunUpdatesDocument,
    "\n  query DashboardWhoAmI {\n    organization { id name }\n  }\n": types.DashboardWhoAmIDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardRunDefinition($id: ID!) {\n    run(id: $id) { id definition }\n  }\n"): typeof import('./graphql').DashboardRunDefinitionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardRunState($id: ID!) {\n    run(id: $id) {\n      id status error createdAt startedAt finishedAt durationMs workflowVersion retries\n      workflow { id name }\n      edges { source target sourceHandle state }\n      steps { nodeId nodeType status attempt branch startedAt finishedAt durationMs input output error reason }\n      branches { id status nodeIds startedAt finishedAt }\n      timing { criticalPath criticalPathMs workMs parallelism }\n    }\n  }\n"): typeof import('./graphql').DashboardRunStateDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardRunEvents($runId: ID!, $afterSeq: Int) {\n    runEvents(runId: $runId, afterSeq: $afterSeq) { seq type at nodeId branch status attempt error }\n  }\n"): typeof import('./graphql').DashboardRunEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardCancelRun($id: ID!) {\n    cancelRun(id: $id) { __typename ... on Run { id status } ... on Error { message } }\n  }\n"): typeof import('./graphql').DashboardCancelRunDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardRetryRun($id: ID!) {\n    retryRun(id: $id) { __typename ... on Run { id status } ... on Error { message } }\n  }\n"): typeof import('./graphql').DashboardRetryRunDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardRunRow on Run {\n    id status createdAt startedAt finishedAt durationMs error workflowVersion\n    workflow { id name }\n  }\n"): typeof import('./graphql').DashboardRunRowFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardRuns($first: Int) {\n    runs(first: $first) { totalCount edges { node { ...DashboardRunRow } } }\n  }\n"): typeof import('./graphql').DashboardRunsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardRunUpdates {\n    runUpdates { ...DashboardRunRow }\n  }\n"): typeof import('./graphql').DashboardRunUpdatesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardWhoAmI {\n    organization { id name }\n  }\n"): typeof import('./graphql').DashboardWhoAmIDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
