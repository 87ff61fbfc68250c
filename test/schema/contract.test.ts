// The names CONTRACT §4 fixes are in the schema, with the shapes clients rely on.
import { getNamedType, isEnumType, isInterfaceType, isObjectType, isUnionType, parse, validate, type GraphQLField } from 'graphql';
import { expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';

const fieldsOf = (name: string) => {
  const type = schema.getType(name);
  if (!type || !(isObjectType(type) || isInterfaceType(type))) throw new Error(`${name} is not an object type`);
  return type.getFields();
};
const signature = (field: GraphQLField<unknown, unknown> | undefined) =>
  field && `${field.args.map((a) => `${a.name}: ${a.type}`).join(', ')} -> ${field.type}`;

it('has the queries, mutations and subscriptions of the contract', () => {
  const query = fieldsOf('Query');
  expect(signature(query.workflow)).toBe('id: ID! -> Workflow');
  expect(signature(query.workflows)).toMatch(/first: Int.*after: String|after: String.*first: Int/);
  expect(String(query.workflows?.type)).toBe('WorkflowConnection!');
  expect(signature(query.run)).toBe('id: ID! -> Run');
  expect(query.runs?.args.map((a) => `${a.name}: ${a.type}`)).toEqual(
    expect.arrayContaining(['workflowId: ID', 'status: RunStatus', 'first: Int', 'after: String']),
  );
  expect(String(query.runs?.type)).toBe('RunConnection!');
  expect(String(query.nodeTypes?.type)).toBe('[NodeType!]!');
  expect(signature(query.validateWorkflow)).toBe('definition: WorkflowDefinitionInput! -> ValidationResult!');

  const mutation = fieldsOf('Mutation');
  expect(signature(mutation.createOrganization)).toBe('name: String! -> CreateOrganizationResult!');
  expect(signature(mutation.createApiKey)).toBe('name: String!, role: Role! -> CreateApiKeyResult!');
  expect(signature(mutation.createWorkflow)).toBe('input: CreateWorkflowInput! -> CreateWorkflowResult!');
  expect(signature(mutation.updateWorkflow)).toBe('id: ID!, input: UpdateWorkflowInput! -> UpdateWorkflowResult!');
  expect(signature(mutation.startRun)).toBe(
    'workflowId: ID!, input: JSON, idempotencyKey: String, priority: Int -> StartRunResult!',
  );
  expect(signature(mutation.updateOrganizationLimits)).toBe('input: OrganizationLimitsInput! -> UpdateOrganizationLimitsResult!');
  expect(signature(mutation.cancelRun)).toBe('id: ID! -> CancelRunResult!');
  expect(signature(mutation.retryRun)).toBe('id: ID! -> RetryRunResult!');

  const subscription = fieldsOf('Subscription');
  expect(signature(subscription.runEvents)).toBe('runId: ID!, afterSeq: Int -> RunEvent!');
  expect(signature(subscription.runUpdates)).toBe('workflowId: ID -> Run!');
});

it('returns result unions of the success object and errors implementing Error', () => {
  const members = (name: string) => {
    const type = schema.getType(name);
    if (!isUnionType(type)) throw new Error(`${name} is not a union`);
    return type.getTypes().map(String);
  };
  expect(members('CreateOrganizationResult')).toContain('CreateOrganizationPayload');
  expect(members('CreateApiKeyResult')).toContain('CreateApiKeyPayload');
  expect(members('CreateWorkflowResult')).toEqual(expect.arrayContaining(['Workflow', 'ValidationError']));
  expect(members('UpdateOrganizationLimitsResult')).toEqual(expect.arrayContaining(['Organization', 'ValidationError']));
  expect(members('UpdateWorkflowResult')).toEqual(expect.arrayContaining(['Workflow', 'ValidationError', 'NotFoundError']));
  expect(members('StartRunResult')).toEqual(expect.arrayContaining(['Run', 'NotFoundError']));
  expect(members('CancelRunResult')).toEqual(expect.arrayContaining(['Run', 'NotFoundError']));
  expect(members('RetryRunResult')).toEqual(expect.arrayContaining(['Run', 'ValidationError', 'NotFoundError']));
  for (const error of ['ValidationError', 'NotFoundError', 'ForbiddenError']) {
    const type = schema.getType(error);
    expect(isObjectType(type) && type.getInterfaces().map(String)).toEqual(['Error']);
  }
  expect(Object.keys(fieldsOf('ValidationIssue')).sort()).toEqual(['message', 'nodeId', 'path']);
  expect(String(fieldsOf('ValidationIssue').path?.type)).toBe('[String!]!');
});

it('has the fields of Workflow, Run, Step, Branch and RunEvent with their types', () => {
  const types = (name: string) =>
    Object.fromEntries(Object.values(fieldsOf(name)).map((f) => [f.name, String(f.type)]));
  expect(types('Workflow')).toMatchObject({
    id: 'ID!', name: 'String!', version: 'Int!', definition: 'JSON!', createdAt: 'DateTime!', updatedAt: 'DateTime!', runs: 'RunConnection!',
  });
  expect(types('Run')).toMatchObject({
    id: 'ID!', status: 'RunStatus!', workflow: 'Workflow!', workflowVersion: 'Int!', input: 'JSON', output: 'JSON', error: 'String',
    createdAt: 'DateTime!', startedAt: 'DateTime', finishedAt: 'DateTime', durationMs: 'Int', steps: '[Step!]!', branches: '[Branch!]!',
    retries: 'Int!',
  });
  expect(types('Step')).toMatchObject({
    id: 'ID!', nodeId: 'String!', nodeType: 'String!', status: 'StepStatus!', attempt: 'Int!', branch: 'String', startedAt: 'DateTime',
    finishedAt: 'DateTime', durationMs: 'Int', input: 'JSON', output: 'JSON', error: 'String', reason: 'String',
  });
  expect(types('Branch')).toMatchObject({ id: 'ID!', path: 'String!', status: 'BranchStatus!', nodeIds: '[String!]!', startedAt: 'DateTime!', finishedAt: 'DateTime' });
  expect(types('RunEvent')).toMatchObject({
    seq: 'Int!', runId: 'ID!', type: 'RunEventType!', at: 'DateTime!', nodeId: 'String', branch: 'String', status: 'String!',
    attempt: 'Int', error: 'String', step: 'Step', run: 'Run!',
  });
  expect(String(getNamedType(fieldsOf('CreateOrganizationPayload').apiKey!.type))).toBe('String');
  expect(Object.keys(fieldsOf('CreateApiKeyPayload'))).toEqual(expect.arrayContaining(['apiKey', 'key']));
});

it('has the enums with the contract words', () => {
  const values = (name: string) => {
    const type = schema.getType(name);
    if (!isEnumType(type)) throw new Error(`${name} is not an enum`);
    return type.getValues().map((v) => v.name);
  };
  expect(values('RunStatus')).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']);
  expect(values('StepStatus')).toEqual(['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED']);
  expect(values('Role')).toEqual(['ADMIN', 'EDITOR', 'VIEWER']);
  expect(values('RunEventType')).toEqual([
    'RUN_STARTED', 'NODE_STARTED', 'NODE_RETRYING', 'NODE_SUCCEEDED', 'NODE_FAILED', 'NODE_SKIPPED', 'NODE_CANCELLED',
    'BRANCH_STARTED', 'BRANCH_FINISHED', 'RUN_SUCCEEDED', 'RUN_FAILED', 'RUN_CANCELLED', 'RUN_RESUMED', 'RUN_RETRIED',
  ]);
});

it('lets one selection ask the id of the success and of NotFoundError in every result union', () => {
  for (const [mutation, success, args] of [
    ['cancelRun', 'Run', '(id: "x")'],
    ['startRun', 'Run', '(workflowId: "x")'],
    ['updateWorkflow', 'Workflow', '(id: "x", input: { name: "n" })'],
  ] as const) {
    const document = parse(`mutation { ${mutation}${args} { ... on ${success} { id } ... on NotFoundError { id } } }`);
    expect(validate(schema, document).map((error) => error.message), mutation).toEqual([]);
  }
});
