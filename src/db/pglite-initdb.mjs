// Creates a PGlite data directory (PGlite runs initdb when it opens an empty one) and exits. Run in a
// process of its own by pglite-start.ts: initdb leaves ~450 MB resident in the process that ran it,
// which a long-lived server would carry for its whole life. Plain JavaScript, so no loader is needed.
import { PGlite } from '@electric-sql/pglite';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: pglite-initdb.mjs <data dir>');
const db = await PGlite.create({ dataDir });
await db.close();
