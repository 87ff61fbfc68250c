// Fuzz over graphql-ws (and some SSE and POST): generated requests (see test/helpers/fuzz-cases.ts).
import { fuzzSuite } from '../helpers/fuzz-run.js';

fuzzSuite({ transports: ['ws', 'ws', 'ws', 'sse', 'post'], batches: Number(process.env.FUZZ_BATCHES ?? 50), batchSize: 100 });
