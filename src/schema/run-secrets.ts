// `Run.secretsUsed`: the names (never the values) of the secrets a run uses.
import { builder } from './builder.js';
import { RunRef } from './refs.js';

builder.objectField(RunRef, 'secretsUsed', (t) =>
  t.field({
    type: ['String'],
    description:
      'The names of the secrets this run uses: those its workflow version references as {{ $secrets.NAME }} in http nodes, sorted. Their values are redacted from everything the run stores as [secret:NAME].',
    resolve: (run, _args, context) => context.services.runs.secretsUsed(run),
  }),
);
