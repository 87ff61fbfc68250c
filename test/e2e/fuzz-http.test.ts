// Fuzz over HTTP: generated requests (see test/helpers/fuzz-cases.ts) by POST, GET and SSE.
import { fuzzSuite } from '../helpers/fuzz-run.js';

fuzzSuite({ transports: ['post', 'post', 'post', 'post-json', 'get', 'sse'], batches: Number(process.env.FUZZ_BATCHES ?? 55), batchSize: 100 });
