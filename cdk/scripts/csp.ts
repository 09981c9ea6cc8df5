// Prints the Content-Security-Policy the frontend stack gives CloudFront for a frontend build, with
// the origins the app connects to in place of the deployed APIs' (the browser test of `make test`
// enforces it on the app served by the local stack, so the app is known to pass it).
//
//   npx ts-node scripts/csp.ts <frontend build dir> <connect origin>...
//   e.g. npx ts-node scripts/csp.ts ../frontend/build http://127.0.0.1:3000 ws://127.0.0.1:3001
import * as fs from 'fs';
import * as path from 'path';
import { contentSecurityPolicy, inlineHashesOfBuild } from '../lib/csp';

const [buildDir, ...connectSources] = process.argv.slice(2);
if (!buildDir || connectSources.length === 0 || !fs.existsSync(path.join(buildDir, 'index.html'))) {
  process.stderr.write('usage: csp.ts <frontend build dir with index.html> <connect origin>...\n');
  process.exit(2);
}
process.stdout.write(`${contentSecurityPolicy({ connectSources, inline: inlineHashesOfBuild(buildDir) })}\n`);
