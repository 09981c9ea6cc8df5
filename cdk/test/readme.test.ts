import * as fs from 'fs';
import * as path from 'path';
import { CONTEXT_KEYS, REPO_DIR } from '../lib/config';
import { synth, synthSam } from './synthesize';

// The deploy, synth and destroy commands the READMEs and docs/ show, synthesized with exactly their
// `-c` settings (Rust build skipped): CI cannot deploy, but every setting they use must exist, parse
// and shape the stacks as the text says.
const DOCS_DIR = path.join(REPO_DIR, 'docs');
const DOCS = [
  path.join(REPO_DIR, 'README.md'),
  path.join(__dirname, '../README.md'),
  ...fs
    .readdirSync(DOCS_DIR)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => path.join(DOCS_DIR, f)),
];

interface CdkCommand {
  readonly doc: string;
  readonly line: string;
  readonly verb: string;
  readonly context: Record<string, string>;
}

function cdkCommands(): CdkCommand[] {
  const found: CdkCommand[] = [];
  for (const doc of DOCS) {
    let fenced = false;
    let pending = '';
    for (const raw of fs.readFileSync(doc, 'utf-8').split('\n')) {
      if (raw.trim().startsWith('```')) {
        fenced = !fenced;
        continue;
      }
      if (!fenced) continue;
      const line = (pending + ' ' + raw.split(' #')[0]).trim().replace(/\s+/g, ' ');
      if (line.endsWith('\\')) {
        pending = line.slice(0, -1);
        continue;
      }
      pending = '';
      const m = /npx cdk (deploy|synth|destroy)\b(.*)$/.exec(line);
      if (!m) continue;
      const context: Record<string, string> = {};
      for (const c of m[2].matchAll(/-c\s+([A-Za-z]+)=(\S+)/g)) context[c[1]] = c[2];
      found.push({ doc: path.relative(REPO_DIR, doc), line, verb: m[1], context });
    }
  }
  return found;
}

const commands = cdkCommands();

test('the READMEs and docs/ show deploy, destroy and the SAM synthesis', () => {
  const verbs = new Set(commands.map((c) => c.verb));
  expect(verbs).toEqual(new Set(['deploy', 'destroy', 'synth']));
  expect(commands.some((c) => c.context.sam === 'true')).toBe(true);
});

test.each(commands.map((c) => [`${c.doc}: ${c.line}`, c] as const))('%s', (_, c) => {
  for (const key of Object.keys(c.context)) expect(CONTEXT_KEYS).toContain(key);
  if (c.context.sam === 'true') {
    const s = synthSam(c.context);
    expect(s.stack.stackName).toBe(`notes-${c.context.stage ?? 'local'}-sam`);
    return;
  }
  const s = synth({ allowedOrigins: '', ...c.context });
  const stage = c.context.stage ?? 'dev';
  expect([s.stacks.data, s.stacks.frontend, s.stacks.backend, s.stacks.site].map((x) => x.stackName)).toEqual(
    ['data', 'frontend', 'backend', 'site'].map((p) => `notes-${stage}-${p}`),
  );
  if (c.context.alarmEmail) s.backend.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: c.context.alarmEmail });
  if (c.context.arch) {
    const fn = Object.values(s.backend.findResources('AWS::Lambda::Function')).find((f: any) =>
      /^notes suite: /.test(f.Properties.Description),
    ) as any;
    expect(fn.Properties.Architectures).toEqual([c.context.arch]);
  }
  if (c.context.allowedOrigins) {
    const api = Object.values(s.backend.findResources('AWS::ApiGatewayV2::Api', { Properties: { ProtocolType: 'HTTP' } }))[0] as any;
    expect(api.Properties.CorsConfiguration.AllowOrigins).toEqual(expect.arrayContaining(c.context.allowedOrigins.split(',')));
  }
});
