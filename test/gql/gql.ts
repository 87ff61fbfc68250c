/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

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
    "\n  query ApiKeys {\n    apiKeys { id name role createdAt lastUsedAt revokedAt }\n  }\n": typeof types.ApiKeysDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      __typename\n      ... on ApiKey { id name role revokedAt }\n      ... on NotFoundError { missingId: id }\n      ... on Error { message }\n    }\n  }\n": typeof types.RevokeApiKeyDocument,
    "\n  mutation NewKey($name: String!, $role: Role!) {\n    createApiKey(name: $name, role: $role) { __typename ... on CreateApiKeyPayload { apiKey key { id } } }\n  }\n": typeof types.NewKeyDocument,
    "\n  query KeyOrganization {\n    organization { id }\n  }\n": typeof types.KeyOrganizationDocument,
    "\n  query Workflows {\n    workflows(first: 50) { edges { node { id } } }\n  }\n": typeof types.WorkflowsDocument,
    "\n  query GetWorkflow($id: ID!) {\n    workflow(id: $id) { id name }\n  }\n": typeof types.GetWorkflowDocument,
    "\n  mutation CreateOrganizationByKey($name: String!) {\n    createOrganization(name: $name) { __typename ... on Error { message } }\n  }\n": typeof types.CreateOrganizationByKeyDocument,
    "\n  mutation CreateKey($role: Role!) {\n    createApiKey(name: \"k\", role: $role) { __typename ... on CreateApiKeyPayload { apiKey key { role } } }\n  }\n": typeof types.CreateKeyDocument,
    "\n  mutation Rename($id: ID!) {\n    updateWorkflow(id: $id, input: { name: \"renamed\" }) {\n      __typename\n      ... on Workflow { id name }\n      ... on Error { message }\n    }\n  }\n": typeof types.RenameDocument,
    "\n  subscription RunUpdatesAll {\n    runUpdates { id status }\n  }\n": typeof types.RunUpdatesAllDocument,
    "\n  query Organization {\n    organization { id name }\n  }\n": typeof types.OrganizationDocument,
    "\n  mutation RetryRun($id: ID!) {\n    retryRun(id: $id) {\n      __typename\n      ... on Run { id status retries }\n      ... on ValidationError { message issues { path message } }\n      ... on Error { message }\n    }\n  }\n": typeof types.RetryRunDocument,
    "\n  query RunGraph($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      definition\n      edges { source target sourceHandle state }\n      timing { criticalPath criticalPathMs workMs parallelism }\n    }\n  }\n": typeof types.RunGraphDocument,
    "\n  query RunEventsPage($id: ID!, $afterSeq: Int, $first: Int) {\n    run(id: $id) { events(afterSeq: $afterSeq, first: $first) { seq type nodeId } }\n  }\n": typeof types.RunEventsPageDocument,
    "\n  mutation RunGraphUpdateWorkflow($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) { __typename ... on Workflow { version } }\n  }\n": typeof types.RunGraphUpdateWorkflowDocument,
    "\n  subscription RunUpdates($workflowId: ID) {\n    runUpdates(workflowId: $workflowId) { id status workflowVersion workflow { id } }\n  }\n": typeof types.RunUpdatesDocument,
    "\n  mutation UpdateDefinition($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) {\n      __typename\n      ... on Workflow { id version definition updatedAt }\n      ... on Error { message }\n    }\n  }\n": typeof types.UpdateDefinitionDocument,
    "\n  query RunsPage($workflowId: ID, $status: RunStatus, $first: Int, $after: String) {\n    runs(workflowId: $workflowId, status: $status, first: $first, after: $after) {\n      edges { cursor node { id status createdAt } }\n      pageInfo { hasNextPage hasPreviousPage endCursor }\n    }\n  }\n": typeof types.RunsPageDocument,
    "\n  query WorkflowWithRuns($id: ID!, $first: Int, $after: String) {\n    workflow(id: $id) {\n      id\n      version\n      runs(first: $first, after: $after) {\n        edges { node { id workflowVersion } }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n": typeof types.WorkflowWithRunsDocument,
    "\n  query WorkflowsPage($first: Int, $after: String) {\n    workflows(first: $first, after: $after) {\n      edges { cursor node { id name } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.WorkflowsPageDocument,
    "\n  query Health {\n    nodeTypes { type }\n  }\n": typeof types.HealthDocument,
    "\n  query TotalCounts($workflowId: ID, $status: RunStatus, $first: Int, $after: String) {\n    workflows(first: $first) { totalCount edges { node { id } } }\n    runs(workflowId: $workflowId, status: $status, first: $first, after: $after) {\n      totalCount\n      edges { node { id } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.TotalCountsDocument,
    "\n  query WorkflowRunCount($id: ID!, $first: Int) {\n    workflow(id: $id) { runs(first: $first) { totalCount edges { node { id } } } }\n  }\n": typeof types.WorkflowRunCountDocument,
    "\n  query RunsWithoutCount($first: Int) {\n    workflows(first: $first) { edges { node { id runs(first: $first) { edges { node { id } } } } } }\n    runs(first: $first) { edges { node { id status } } }\n  }\n": typeof types.RunsWithoutCountDocument,
    "\n  query ValidateWorkflow($definition: WorkflowDefinitionInput!) {\n    validateWorkflow(definition: $definition) { valid issues { path nodeId message } }\n  }\n": typeof types.ValidateWorkflowDocument,
    "\n  mutation UpdateWorkflow($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) {\n      __typename\n      ... on Workflow { id version definition }\n      ... on ValidationError { message issues { path nodeId message } }\n      ... on Error { message }\n    }\n  }\n": typeof types.UpdateWorkflowDocument,
    "\n  query NodeTypes {\n    nodeTypes { type description paramsSchema handles dynamicHandles }\n  }\n": typeof types.NodeTypesDocument,
    "\n    query WorkflowById($id: ID!) {\n      workflow(id: $id) { id }\n    }\n  ": typeof types.WorkflowByIdDocument,
    "\n  mutation CreateWorkflow($input: CreateWorkflowInput!) {\n    createWorkflow(input: $input) {\n      __typename\n      ... on Workflow { id name version definition createdAt }\n      ... on ValidationError { message issues { path nodeId message } }\n      ... on Error { message }\n    }\n  }\n": typeof types.CreateWorkflowDocument,
    "\n  mutation StartRun($workflowId: ID!, $input: JSON, $idempotencyKey: String) {\n    startRun(workflowId: $workflowId, input: $input, idempotencyKey: $idempotencyKey) {\n      __typename\n      ... on Run { id status workflowVersion }\n      ... on Error { message }\n    }\n  }\n": typeof types.StartRunDocument,
    "\n  mutation CancelRun($id: ID!) {\n    cancelRun(id: $id) {\n      __typename\n      ... on Run { id status error finishedAt steps { nodeId status reason } }\n      ... on Error { message }\n    }\n  }\n": typeof types.CancelRunDocument,
    "\n  query GetRun($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      error\n      output\n      input\n      workflowVersion\n      workflow { id }\n      createdAt\n      startedAt\n      finishedAt\n      durationMs\n      steps { id nodeId nodeType status attempt branch reason error input output startedAt finishedAt durationMs }\n      branches { id path status nodeIds startedAt finishedAt }\n    }\n  }\n": typeof types.GetRunDocument,
    "\n  subscription RunEvents($runId: ID!, $afterSeq: Int) {\n    runEvents(runId: $runId, afterSeq: $afterSeq) { seq runId type at nodeId branch status attempt error reason }\n  }\n": typeof types.RunEventsDocument,
    "\n  mutation HelperCreateOrganization($name: String!) {\n    createOrganization(name: $name) {\n      __typename\n      ... on CreateOrganizationPayload { organization { id name } apiKey }\n      ... on Error { message }\n    }\n  }\n": typeof types.HelperCreateOrganizationDocument,
    "\n  mutation HelperCreateApiKey($name: String!, $role: Role!) {\n    createApiKey(name: $name, role: $role) {\n      __typename\n      ... on CreateApiKeyPayload { apiKey key { id role } }\n      ... on Error { message }\n    }\n  }\n": typeof types.HelperCreateApiKeyDocument,
};
const documents: Documents = {
    "\n  query ApiKeys {\n    apiKeys { id name role createdAt lastUsedAt revokedAt }\n  }\n": types.ApiKeysDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      __typename\n      ... on ApiKey { id name role revokedAt }\n      ... on NotFoundError { missingId: id }\n      ... on Error { message }\n    }\n  }\n": types.RevokeApiKeyDocument,
    "\n  mutation NewKey($name: String!, $role: Role!) {\n    createApiKey(name: $name, role: $role) { __typename ... on CreateApiKeyPayload { apiKey key { id } } }\n  }\n": types.NewKeyDocument,
    "\n  query KeyOrganization {\n    organization { id }\n  }\n": types.KeyOrganizationDocument,
    "\n  query Workflows {\n    workflows(first: 50) { edges { node { id } } }\n  }\n": types.WorkflowsDocument,
    "\n  query GetWorkflow($id: ID!) {\n    workflow(id: $id) { id name }\n  }\n": types.GetWorkflowDocument,
    "\n  mutation CreateOrganizationByKey($name: String!) {\n    createOrganization(name: $name) { __typename ... on Error { message } }\n  }\n": types.CreateOrganizationByKeyDocument,
    "\n  mutation CreateKey($role: Role!) {\n    createApiKey(name: \"k\", role: $role) { __typename ... on CreateApiKeyPayload { apiKey key { role } } }\n  }\n": types.CreateKeyDocument,
    "\n  mutation Rename($id: ID!) {\n    updateWorkflow(id: $id, input: { name: \"renamed\" }) {\n      __typename\n      ... on Workflow { id name }\n      ... on Error { message }\n    }\n  }\n": types.RenameDocument,
    "\n  subscription RunUpdatesAll {\n    runUpdates { id status }\n  }\n": types.RunUpdatesAllDocument,
    "\n  query Organization {\n    organization { id name }\n  }\n": types.OrganizationDocument,
    "\n  mutation RetryRun($id: ID!) {\n    retryRun(id: $id) {\n      __typename\n      ... on Run { id status retries }\n      ... on ValidationError { message issues { path message } }\n      ... on Error { message }\n    }\n  }\n": types.RetryRunDocument,
    "\n  query RunGraph($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      definition\n      edges { source target sourceHandle state }\n      timing { criticalPath criticalPathMs workMs parallelism }\n    }\n  }\n": types.RunGraphDocument,
    "\n  query RunEventsPage($id: ID!, $afterSeq: Int, $first: Int) {\n    run(id: $id) { events(afterSeq: $afterSeq, first: $first) { seq type nodeId } }\n  }\n": types.RunEventsPageDocument,
    "\n  mutation RunGraphUpdateWorkflow($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) { __typename ... on Workflow { version } }\n  }\n": types.RunGraphUpdateWorkflowDocument,
    "\n  subscription RunUpdates($workflowId: ID) {\n    runUpdates(workflowId: $workflowId) { id status workflowVersion workflow { id } }\n  }\n": types.RunUpdatesDocument,
    "\n  mutation UpdateDefinition($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) {\n      __typename\n      ... on Workflow { id version definition updatedAt }\n      ... on Error { message }\n    }\n  }\n": types.UpdateDefinitionDocument,
    "\n  query RunsPage($workflowId: ID, $status: RunStatus, $first: Int, $after: String) {\n    runs(workflowId: $workflowId, status: $status, first: $first, after: $after) {\n      edges { cursor node { id status createdAt } }\n      pageInfo { hasNextPage hasPreviousPage endCursor }\n    }\n  }\n": types.RunsPageDocument,
    "\n  query WorkflowWithRuns($id: ID!, $first: Int, $after: String) {\n    workflow(id: $id) {\n      id\n      version\n      runs(first: $first, after: $after) {\n        edges { node { id workflowVersion } }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n": types.WorkflowWithRunsDocument,
    "\n  query WorkflowsPage($first: Int, $after: String) {\n    workflows(first: $first, after: $after) {\n      edges { cursor node { id name } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.WorkflowsPageDocument,
    "\n  query Health {\n    nodeTypes { type }\n  }\n": types.HealthDocument,
    "\n  query TotalCounts($workflowId: ID, $status: RunStatus, $first: Int, $after: String) {\n    workflows(first: $first) { totalCount edges { node { id } } }\n    runs(workflowId: $workflowId, status: $status, first: $first, after: $after) {\n      totalCount\n      edges { node { id } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.TotalCountsDocument,
    "\n  query WorkflowRunCount($id: ID!, $first: Int) {\n    workflow(id: $id) { runs(first: $first) { totalCount edges { node { id } } } }\n  }\n": types.WorkflowRunCountDocument,
    "\n  query RunsWithoutCount($first: Int) {\n    workflows(first: $first) { edges { node { id runs(first: $first) { edges { node { id } } } } } }\n    runs(first: $first) { edges { node { id status } } }\n  }\n": types.RunsWithoutCountDocument,
    "\n  query ValidateWorkflow($definition: WorkflowDefinitionInput!) {\n    validateWorkflow(definition: $definition) { valid issues { path nodeId message } }\n  }\n": types.ValidateWorkflowDocument,
    "\n  mutation UpdateWorkflow($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) {\n      __typename\n      ... on Workflow { id version definition }\n      ... on ValidationError { message issues { path nodeId message } }\n      ... on Error { message }\n    }\n  }\n": types.UpdateWorkflowDocument,
    "\n  query NodeTypes {\n    nodeTypes { type description paramsSchema handles dynamicHandles }\n  }\n": types.NodeTypesDocument,
    "\n    query WorkflowById($id: ID!) {\n      workflow(id: $id) { id }\n    }\n  ": types.WorkflowByIdDocument,
    "\n  mutation CreateWorkflow($input: CreateWorkflowInput!) {\n    createWorkflow(input: $input) {\n      __typename\n      ... on Workflow { id name version definition createdAt }\n      ... on ValidationError { message issues { path nodeId message } }\n      ... on Error { message }\n    }\n  }\n": types.CreateWorkflowDocument,
    "\n  mutation StartRun($workflowId: ID!, $input: JSON, $idempotencyKey: String) {\n    startRun(workflowId: $workflowId, input: $input, idempotencyKey: $idempotencyKey) {\n      __typename\n      ... on Run { id status workflowVersion }\n      ... on Error { message }\n    }\n  }\n": types.StartRunDocument,
    "\n  mutation CancelRun($id: ID!) {\n    cancelRun(id: $id) {\n      __typename\n      ... on Run { id status error finishedAt steps { nodeId status reason } }\n      ... on Error { message }\n    }\n  }\n": types.CancelRunDocument,
    "\n  query GetRun($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      error\n      output\n      input\n      workflowVersion\n      workflow { id }\n      createdAt\n      startedAt\n      finishedAt\n      durationMs\n      steps { id nodeId nodeType status attempt branch reason error input output startedAt finishedAt durationMs }\n      branches { id path status nodeIds startedAt finishedAt }\n    }\n  }\n": types.GetRunDocument,
    "\n  subscription RunEvents($runId: ID!, $afterSeq: Int) {\n    runEvents(runId: $runId, afterSeq: $afterSeq) { seq runId type at nodeId branch status attempt error reason }\n  }\n": types.RunEventsDocument,
    "\n  mutation HelperCreateOrganization($name: String!) {\n    createOrganization(name: $name) {\n      __typename\n      ... on CreateOrganizationPayload { organization { id name } apiKey }\n      ... on Error { message }\n    }\n  }\n": types.HelperCreateOrganizationDocument,
    "\n  mutation HelperCreateApiKey($name: String!, $role: Role!) {\n    createApiKey(name: $name, role: $role) {\n      __typename\n      ... on CreateApiKeyPayload { apiKey key { id role } }\n      ... on Error { message }\n    }\n  }\n": types.HelperCreateApiKeyDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiKeys {\n    apiKeys { id name role createdAt lastUsedAt revokedAt }\n  }\n"): (typeof documents)["\n  query ApiKeys {\n    apiKeys { id name role createdAt lastUsedAt revokedAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      __typename\n      ... on ApiKey { id name role revokedAt }\n      ... on NotFoundError { missingId: id }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      __typename\n      ... on ApiKey { id name role revokedAt }\n      ... on NotFoundError { missingId: id }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation NewKey($name: String!, $role: Role!) {\n    createApiKey(name: $name, role: $role) { __typename ... on CreateApiKeyPayload { apiKey key { id } } }\n  }\n"): (typeof documents)["\n  mutation NewKey($name: String!, $role: Role!) {\n    createApiKey(name: $name, role: $role) { __typename ... on CreateApiKeyPayload { apiKey key { id } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyOrganization {\n    organization { id }\n  }\n"): (typeof documents)["\n  query KeyOrganization {\n    organization { id }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Workflows {\n    workflows(first: 50) { edges { node { id } } }\n  }\n"): (typeof documents)["\n  query Workflows {\n    workflows(first: 50) { edges { node { id } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GetWorkflow($id: ID!) {\n    workflow(id: $id) { id name }\n  }\n"): (typeof documents)["\n  query GetWorkflow($id: ID!) {\n    workflow(id: $id) { id name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateOrganizationByKey($name: String!) {\n    createOrganization(name: $name) { __typename ... on Error { message } }\n  }\n"): (typeof documents)["\n  mutation CreateOrganizationByKey($name: String!) {\n    createOrganization(name: $name) { __typename ... on Error { message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateKey($role: Role!) {\n    createApiKey(name: \"k\", role: $role) { __typename ... on CreateApiKeyPayload { apiKey key { role } } }\n  }\n"): (typeof documents)["\n  mutation CreateKey($role: Role!) {\n    createApiKey(name: \"k\", role: $role) { __typename ... on CreateApiKeyPayload { apiKey key { role } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Rename($id: ID!) {\n    updateWorkflow(id: $id, input: { name: \"renamed\" }) {\n      __typename\n      ... on Workflow { id name }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation Rename($id: ID!) {\n    updateWorkflow(id: $id, input: { name: \"renamed\" }) {\n      __typename\n      ... on Workflow { id name }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RunUpdatesAll {\n    runUpdates { id status }\n  }\n"): (typeof documents)["\n  subscription RunUpdatesAll {\n    runUpdates { id status }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Organization {\n    organization { id name }\n  }\n"): (typeof documents)["\n  query Organization {\n    organization { id name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryRun($id: ID!) {\n    retryRun(id: $id) {\n      __typename\n      ... on Run { id status retries }\n      ... on ValidationError { message issues { path message } }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation RetryRun($id: ID!) {\n    retryRun(id: $id) {\n      __typename\n      ... on Run { id status retries }\n      ... on ValidationError { message issues { path message } }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunGraph($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      definition\n      edges { source target sourceHandle state }\n      timing { criticalPath criticalPathMs workMs parallelism }\n    }\n  }\n"): (typeof documents)["\n  query RunGraph($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      definition\n      edges { source target sourceHandle state }\n      timing { criticalPath criticalPathMs workMs parallelism }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunEventsPage($id: ID!, $afterSeq: Int, $first: Int) {\n    run(id: $id) { events(afterSeq: $afterSeq, first: $first) { seq type nodeId } }\n  }\n"): (typeof documents)["\n  query RunEventsPage($id: ID!, $afterSeq: Int, $first: Int) {\n    run(id: $id) { events(afterSeq: $afterSeq, first: $first) { seq type nodeId } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RunGraphUpdateWorkflow($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) { __typename ... on Workflow { version } }\n  }\n"): (typeof documents)["\n  mutation RunGraphUpdateWorkflow($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) { __typename ... on Workflow { version } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RunUpdates($workflowId: ID) {\n    runUpdates(workflowId: $workflowId) { id status workflowVersion workflow { id } }\n  }\n"): (typeof documents)["\n  subscription RunUpdates($workflowId: ID) {\n    runUpdates(workflowId: $workflowId) { id status workflowVersion workflow { id } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateDefinition($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) {\n      __typename\n      ... on Workflow { id version definition updatedAt }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateDefinition($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) {\n      __typename\n      ... on Workflow { id version definition updatedAt }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunsPage($workflowId: ID, $status: RunStatus, $first: Int, $after: String) {\n    runs(workflowId: $workflowId, status: $status, first: $first, after: $after) {\n      edges { cursor node { id status createdAt } }\n      pageInfo { hasNextPage hasPreviousPage endCursor }\n    }\n  }\n"): (typeof documents)["\n  query RunsPage($workflowId: ID, $status: RunStatus, $first: Int, $after: String) {\n    runs(workflowId: $workflowId, status: $status, first: $first, after: $after) {\n      edges { cursor node { id status createdAt } }\n      pageInfo { hasNextPage hasPreviousPage endCursor }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WorkflowWithRuns($id: ID!, $first: Int, $after: String) {\n    workflow(id: $id) {\n      id\n      version\n      runs(first: $first, after: $after) {\n        edges { node { id workflowVersion } }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n"): (typeof documents)["\n  query WorkflowWithRuns($id: ID!, $first: Int, $after: String) {\n    workflow(id: $id) {\n      id\n      version\n      runs(first: $first, after: $after) {\n        edges { node { id workflowVersion } }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WorkflowsPage($first: Int, $after: String) {\n    workflows(first: $first, after: $after) {\n      edges { cursor node { id name } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): (typeof documents)["\n  query WorkflowsPage($first: Int, $after: String) {\n    workflows(first: $first, after: $after) {\n      edges { cursor node { id name } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Health {\n    nodeTypes { type }\n  }\n"): (typeof documents)["\n  query Health {\n    nodeTypes { type }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TotalCounts($workflowId: ID, $status: RunStatus, $first: Int, $after: String) {\n    workflows(first: $first) { totalCount edges { node { id } } }\n    runs(workflowId: $workflowId, status: $status, first: $first, after: $after) {\n      totalCount\n      edges { node { id } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): (typeof documents)["\n  query TotalCounts($workflowId: ID, $status: RunStatus, $first: Int, $after: String) {\n    workflows(first: $first) { totalCount edges { node { id } } }\n    runs(workflowId: $workflowId, status: $status, first: $first, after: $after) {\n      totalCount\n      edges { node { id } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WorkflowRunCount($id: ID!, $first: Int) {\n    workflow(id: $id) { runs(first: $first) { totalCount edges { node { id } } } }\n  }\n"): (typeof documents)["\n  query WorkflowRunCount($id: ID!, $first: Int) {\n    workflow(id: $id) { runs(first: $first) { totalCount edges { node { id } } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunsWithoutCount($first: Int) {\n    workflows(first: $first) { edges { node { id runs(first: $first) { edges { node { id } } } } } }\n    runs(first: $first) { edges { node { id status } } }\n  }\n"): (typeof documents)["\n  query RunsWithoutCount($first: Int) {\n    workflows(first: $first) { edges { node { id runs(first: $first) { edges { node { id } } } } } }\n    runs(first: $first) { edges { node { id status } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ValidateWorkflow($definition: WorkflowDefinitionInput!) {\n    validateWorkflow(definition: $definition) { valid issues { path nodeId message } }\n  }\n"): (typeof documents)["\n  query ValidateWorkflow($definition: WorkflowDefinitionInput!) {\n    validateWorkflow(definition: $definition) { valid issues { path nodeId message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateWorkflow($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) {\n      __typename\n      ... on Workflow { id version definition }\n      ... on ValidationError { message issues { path nodeId message } }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateWorkflow($id: ID!, $input: UpdateWorkflowInput!) {\n    updateWorkflow(id: $id, input: $input) {\n      __typename\n      ... on Workflow { id version definition }\n      ... on ValidationError { message issues { path nodeId message } }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NodeTypes {\n    nodeTypes { type description paramsSchema handles dynamicHandles }\n  }\n"): (typeof documents)["\n  query NodeTypes {\n    nodeTypes { type description paramsSchema handles dynamicHandles }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    query WorkflowById($id: ID!) {\n      workflow(id: $id) { id }\n    }\n  "): (typeof documents)["\n    query WorkflowById($id: ID!) {\n      workflow(id: $id) { id }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateWorkflow($input: CreateWorkflowInput!) {\n    createWorkflow(input: $input) {\n      __typename\n      ... on Workflow { id name version definition createdAt }\n      ... on ValidationError { message issues { path nodeId message } }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateWorkflow($input: CreateWorkflowInput!) {\n    createWorkflow(input: $input) {\n      __typename\n      ... on Workflow { id name version definition createdAt }\n      ... on ValidationError { message issues { path nodeId message } }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartRun($workflowId: ID!, $input: JSON, $idempotencyKey: String) {\n    startRun(workflowId: $workflowId, input: $input, idempotencyKey: $idempotencyKey) {\n      __typename\n      ... on Run { id status workflowVersion }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation StartRun($workflowId: ID!, $input: JSON, $idempotencyKey: String) {\n    startRun(workflowId: $workflowId, input: $input, idempotencyKey: $idempotencyKey) {\n      __typename\n      ... on Run { id status workflowVersion }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelRun($id: ID!) {\n    cancelRun(id: $id) {\n      __typename\n      ... on Run { id status error finishedAt steps { nodeId status reason } }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation CancelRun($id: ID!) {\n    cancelRun(id: $id) {\n      __typename\n      ... on Run { id status error finishedAt steps { nodeId status reason } }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GetRun($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      error\n      output\n      input\n      workflowVersion\n      workflow { id }\n      createdAt\n      startedAt\n      finishedAt\n      durationMs\n      steps { id nodeId nodeType status attempt branch reason error input output startedAt finishedAt durationMs }\n      branches { id path status nodeIds startedAt finishedAt }\n    }\n  }\n"): (typeof documents)["\n  query GetRun($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      error\n      output\n      input\n      workflowVersion\n      workflow { id }\n      createdAt\n      startedAt\n      finishedAt\n      durationMs\n      steps { id nodeId nodeType status attempt branch reason error input output startedAt finishedAt durationMs }\n      branches { id path status nodeIds startedAt finishedAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RunEvents($runId: ID!, $afterSeq: Int) {\n    runEvents(runId: $runId, afterSeq: $afterSeq) { seq runId type at nodeId branch status attempt error reason }\n  }\n"): (typeof documents)["\n  subscription RunEvents($runId: ID!, $afterSeq: Int) {\n    runEvents(runId: $runId, afterSeq: $afterSeq) { seq runId type at nodeId branch status attempt error reason }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation HelperCreateOrganization($name: String!) {\n    createOrganization(name: $name) {\n      __typename\n      ... on CreateOrganizationPayload { organization { id name } apiKey }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation HelperCreateOrganization($name: String!) {\n    createOrganization(name: $name) {\n      __typename\n      ... on CreateOrganizationPayload { organization { id name } apiKey }\n      ... on Error { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation HelperCreateApiKey($name: String!, $role: Role!) {\n    createApiKey(name: $name, role: $role) {\n      __typename\n      ... on CreateApiKeyPayload { apiKey key { id role } }\n      ... on Error { message }\n    }\n  }\n"): (typeof documents)["\n  mutation HelperCreateApiKey($name: String!, $role: Role!) {\n    createApiKey(name: $name, role: $role) {\n      __typename\n      ... on CreateApiKeyPayload { apiKey key { id role } }\n      ... on Error { message }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;