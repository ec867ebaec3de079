// npm run bench: every suite, one after another.
import { run } from '../src/cli/bench.ts';

await run(process.argv.slice(2));
process.exit(0);
