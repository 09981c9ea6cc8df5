import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { STREAM_TRIGGERED } from './declaration';
import { functionProps, synth, Synthesized } from './synthesize';

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

const stackNames = ['data', 'frontend', 'backend', 'site'] as const;

describe('cdk-nag AwsSolutions pack', () => {
  test.each(stackNames)('%s stack: no unsuppressed error', (name) => {
    const errors = Annotations.fromStack(s.stacks[name]).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    expect(errors.map((e) => `${e.id}: ${String(e.entry.data).slice(0, 160)}`)).toEqual([]);
  });

  test.each(stackNames)('%s stack: no unsuppressed warning', (name) => {
    const warnings = Annotations.fromStack(s.stacks[name]).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    expect(warnings.map((e) => `${e.id}: ${String(e.entry.data).slice(0, 160)}`)).toEqual([]);
  });

  test.each(stackNames)('%s stack: no CDK warning or error at all', (name) => {
    const a = Annotations.fromStack(s.stacks[name]);
    expect(a.findError('*', Match.anyValue())).toEqual([]);
    expect(a.findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('with -c tracing=true too: the X-Ray wildcard is suppressed on each function role, nothing else appears', () => {
    const traced = synth({ tracing: 'true' });
    const a = Annotations.fromStack(traced.stacks.backend);
    const findings = [
      ...a.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...a.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ];
    expect(findings.map((e) => `${e.id}: ${String(e.entry.data).slice(0, 160)}`)).toEqual([]);
  });

  test('without tracing, no function role carries the X-Ray suppression (there is no wildcard to excuse)', () => {
    const xray = Object.entries<any>(s.backend.toJSON().Resources).filter(([, r]) =>
      (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).some((rule: any) => /X-Ray/.test(rule.reason)),
    );
    expect(xray.map(([id]) => id)).toEqual([]);
  });

  test("without tracing, Resource::* is excused only on the roles of the functions the table's stream triggers (ListStreams)", () => {
    const roleOf = (id: string, r: any) => (r.Type === 'AWS::IAM::Policy' ? r.Properties.Roles.map((x: any) => x.Ref) : [id]);
    const excused = Object.entries<any>(s.backend.toJSON().Resources)
      .filter(([, r]) =>
        (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).some((rule: any) => JSON.stringify(rule.applies_to ?? []) === '["Resource::*"]'),
      )
      .flatMap(([id, r]) => roleOf(id, r));
    expect(STREAM_TRIGGERED.length).toBeGreaterThan(0);
    expect([...new Set(excused)].sort()).toEqual(STREAM_TRIGGERED.map(([fn]) => functionProps(s.backend, fn).Role['Fn::GetAtt'][0]).sort());
    for (const [, r] of Object.entries<any>(s.backend.toJSON().Resources)) {
      for (const rule of r.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
        if (JSON.stringify(rule.applies_to ?? []) === '["Resource::*"]') expect(rule.reason).toMatch(/dynamodb:ListStreams/);
      }
    }
  });

  test('every suppression states its reason and no rule is suppressed stack-wide', () => {
    const all: Array<{ path: string; id: string; reason: string; applies_to?: unknown[] }> = [];
    for (const name of stackNames) {
      const t = (s as any)[name].toJSON();
      for (const [logicalId, r] of Object.entries<any>(t.Resources)) {
        for (const rule of r.Metadata?.cdk_nag?.rules_to_suppress ?? []) all.push({ path: logicalId, ...rule });
      }
      expect(t.Metadata?.cdk_nag).toBeUndefined();
    }
    expect(all.length).toBeGreaterThan(0);
    for (const sup of all) expect(sup.reason.length).toBeGreaterThan(40);
    // Wildcard permissions are only accepted for listed findings, never wholesale.
    for (const sup of all.filter((x) => x.id === 'AwsSolutions-IAM5' || x.id === 'AwsSolutions-IAM4')) {
      expect(sup.applies_to?.length ?? 0).toBeGreaterThan(0);
    }
  });

  test('the suppressed rules are exactly the ones documented in README', () => {
    const ids = new Set<string>();
    for (const name of stackNames) {
      for (const r of Object.values<any>((s as any)[name].toJSON().Resources)) {
        for (const rule of r.Metadata?.cdk_nag?.rules_to_suppress ?? []) ids.add(rule.id);
      }
    }
    const readme = require('fs').readFileSync(require('path').join(__dirname, '../README.md'), 'utf-8');
    for (const id of ids) expect(readme).toContain(id);
  });
});
