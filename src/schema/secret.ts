// Secret (its name and times, never its value), createSecret / updateSecret / deleteSecret (EDITOR) and
// secrets (VIEWER). Values are encrypted before they reach the database.
import { GraphQLError } from 'graphql';
import { SecretsKeyMismatchError } from '../db/queries/secrets-key-check.js';
import { deleteSecret, insertSecret, listSecrets, updateSecret, type SecretInfo } from '../db/queries/secrets.js';
import { MAX_SECRET_NAME_LENGTH, SECRET_NAME_PATTERN } from '../engine/index.js';
import { builder } from './builder.js';
import { organizationOf, type Context } from './context.js';
import { NotFoundError } from './errors.js';
import { fieldIssue, ValidationError } from './validation.js';

const namePattern = SECRET_NAME_PATTERN;
const maxSecretNameLength = MAX_SECRET_NAME_LENGTH;
/** Largest value, in bytes of UTF-8. */
export const maxSecretValueBytes = 64 * 1024;

export const SecretRef = builder.objectRef<SecretInfo>('Secret').implement({
  description: 'A secret of the organization: its value is stored encrypted and never returned.',
  fields: (t) => ({
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the value was last set.' }),
  }),
});

/** The name as given, or throws ValidationError naming `name`. */
function checkSecretName(name: string): string {
  if (name.length > maxSecretNameLength) throw invalid('name', `name is longer than ${maxSecretNameLength} characters`);
  if (!namePattern.test(name)) throw invalid('name', 'name must match [A-Za-z_][A-Za-z0-9_]* (letters, digits and _, not starting with a digit)');
  return name;
}

/** Whether `name` could name a secret: any other names nothing (and, holding NUL, could not reach the driver). */
function isSecretName(name: string): boolean {
  return name.length <= maxSecretNameLength && namePattern.test(name);
}

function checkSecretValue(value: string): string {
  if (value.length === 0) throw invalid('value', 'value must not be empty');
  if (value.includes('\u0000')) throw invalid('value', 'value contains a NUL character (U+0000)');
  if (Buffer.byteLength(value, 'utf8') > maxSecretValueBytes) throw invalid('value', `value is longer than ${maxSecretValueBytes} bytes`);
  return value;
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError([fieldIssue(field, message)], 'input');
}

/** The key to encrypt with, or the error every client sees while the server has none. */
function secretsKeyOf(context: Context): Buffer {
  const key = context.services.secretsKey;
  if (!key) {
    throw new GraphQLError('SECRETS_KEY is not set on this server: secrets cannot be created or updated', {
      extensions: { code: 'SECRETS_KEY_MISSING' },
    });
  }
  return key;
}

/** `write()`, with a store under another key (rotated while this server ran) answered as SECRETS_KEY_MISMATCH. */
async function underStoreKey<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof SecretsKeyMismatchError)) throw error;
    throw new GraphQLError(
      "this server's SECRETS_KEY is not the key the stored secrets are encrypted under (rotated since it started?): restart it with the current key",
      { extensions: { code: 'SECRETS_KEY_MISMATCH' } },
    );
  }
}

builder.mutationField('createSecret', (t) =>
  t.field({
    type: SecretRef,
    description:
      "Stores a new secret in the caller's organization (EDITOR). A name is unique per organization, matches " +
      `[A-Za-z_][A-Za-z0-9_]* and has at most ${maxSecretNameLength} characters; a value is 1 to ${maxSecretValueBytes} bytes, without NUL.`,
    authScopes: { editor: true },
    errors: { types: [ValidationError], union: { name: 'CreateSecretResult' } },
    args: { name: t.arg.string({ required: true }), value: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      const key = secretsKeyOf(context);
      const name = checkSecretName(args.name);
      const value = checkSecretValue(args.value);
      const secret = await underStoreKey(() => insertSecret(context.services.database.db, key, organizationOf(context), name, value));
      if (!secret) throw invalid('name', `a secret named "${name}" already exists`);
      return secret;
    },
  }),
);

builder.mutationField('updateSecret', (t) =>
  t.field({
    type: SecretRef,
    description: 'Replaces the value of a secret of the organization (EDITOR).',
    authScopes: { editor: true },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'UpdateSecretResult' } },
    args: { name: t.arg.string({ required: true }), value: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      const key = secretsKeyOf(context);
      const value = checkSecretValue(args.value);
      const secret = isSecretName(args.name)
        ? await underStoreKey(() => updateSecret(context.services.database.db, key, organizationOf(context), args.name, value))
        : null;
      if (!secret) throw new NotFoundError('secret', args.name);
      return secret;
    },
  }),
);

builder.mutationField('deleteSecret', (t) =>
  t.field({
    type: SecretRef,
    description: 'Deletes a secret of the organization (EDITOR); answers what it was.',
    authScopes: { editor: true },
    errors: { types: [NotFoundError], union: { name: 'DeleteSecretResult' } },
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      const secret = isSecretName(args.name) ? await deleteSecret(context.services.database.db, organizationOf(context), args.name) : null;
      if (!secret) throw new NotFoundError('secret', args.name);
      return secret;
    },
  }),
);

builder.queryField('secrets', (t) =>
  t.field({
    type: [SecretRef],
    description: "The organization's secrets by name, without their values (VIEWER).",
    authScopes: { viewer: true },
    resolve: (_root, _args, context) => listSecrets(context.services.database.db, organizationOf(context)),
  }),
);
