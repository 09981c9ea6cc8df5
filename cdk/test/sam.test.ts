import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { hostArchitecture } from '../lib/config';
import { constructIdFor } from '../lib/naming';
import { LOCAL_APP_ORIGINS, SAM_ENV_FROM_FILE } from '../lib/sam-local-stack';
import { FUNCTIONS, HTTP_ROUTES, aFunctionWhere, declared, functionsWhere } from './declaration';
import { functionProps, statementsOf, synth, synthSam, Synthesized, SynthesizedSam } from './synthesize';

// `-c sam=true`: the template `sam local` loads (cdk/sam/test_sam_local.py loads it with the SAM
// CLI's own providers; these tests hold it to the deployable backend).
let sam: SynthesizedSam;
let aws: Synthesized;
beforeAll(() => {
  sam = synthSam();
  aws = synth();
});

test('one stack, notes-local-sam: the functions and the HTTP API, nothing SAM cannot load or does not run', () => {
  expect(sam.stack.stackName).toBe('notes-local-sam');
  expect(sam.app.node.children.filter((c) => c.constructor.name.endsWith('Stack')).map((c) => c.node.id)).toEqual([
    'notes-local-sam',
  ]);
  sam.template.resourceCountIs('AWS::Lambda::Function', FUNCTIONS.length);
  sam.template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
  sam.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
  // No WebSocket API: SAM's API provider fails on `$connect` route keys.
  const routeKeys = Object.values(sam.template.findResources('AWS::ApiGatewayV2::Route')).map((r: any) => r.Properties.RouteKey);
  expect(routeKeys.filter((k: string) => k.startsWith('$'))).toEqual([]);
  // No event source mapping either: a queue's or the table stream's function is invoked with a sample event.
  for (const type of ['AWS::DynamoDB::Table', 'AWS::Events::EventBus', 'AWS::SQS::Queue', 'AWS::SecretsManager::Secret', 'AWS::Lambda::EventSourceMapping']) {
    sam.template.resourceCountIs(type, 0);
  }
});

test('CORS origins are literal strings (SAM cannot resolve Fn::Join or Fn::ImportValue there), with the local app', () => {
  const api = Object.values(sam.template.findResources('AWS::ApiGatewayV2::Api'))[0] as any;
  const origins = api.Properties.CorsConfiguration.AllowOrigins;
  for (const o of origins) expect(typeof o).toBe('string');
  expect(origins).toEqual(expect.arrayContaining(LOCAL_APP_ORIGINS));
});

test('the same routes as the deployed HTTP API, to the same functions', () => {
  const keys = (t: any) =>
    Object.values(t.findResources('AWS::ApiGatewayV2::Route'))
      .map((r: any) => r.Properties.RouteKey)
      .filter((k: string) => !k.startsWith('$'))
      .sort();
  expect(keys(sam.template)).toEqual(keys(aws.backend));
  expect(keys(sam.template)).toEqual(HTTP_ROUTES.map(([key]) => key).sort());
});

test.each(FUNCTIONS)('%s: named by SAM as its construct id, right under the stack', (name) => {
  const fn = sam.stack.functions[name];
  const cfn = fn.node.defaultChild as any;
  // SAM derives a function's name from aws:cdk:path when it is <stack>/<id>/Resource.
  expect(cfn.node.path).toBe(`notes-local-sam/${constructIdFor(name)}/Resource`);
  expect(sam.stack.resolve(cfn.logicalId)).toBe(aws.stacks.backend.resolve((aws.stacks.backend.functions[name].node.defaultChild as any).logicalId));
});

test.each(FUNCTIONS)('%s: the deployed environment, for the local stack, built for this machine', (name) => {
  const local = functionProps(sam.template, name);
  const deployed = functionProps(aws.backend, name);
  expect(local.Architectures).toEqual([hostArchitecture().name]);
  expect(local.MemorySize).toBe(deployed.MemorySize);
  expect(local.Timeout).toBe(deployed.Timeout);
  const expected = Object.keys(deployed.Environment.Variables).map((k) => (k === 'JWT_SECRET_ARN' ? 'JWT_SECRET' : k));
  // A function that calls AWS goes through the local stack's emulator; one that uses the table, through
  // DynamoDB Local (a stream's function only gets the records it is handed, and calls no table).
  if (declared(name).environment.length > 0) expected.push('AWS_ENDPOINT_URL');
  if (declared(name).tableActions.length > 0) expected.push('AWS_ENDPOINT_URL_DYNAMODB');
  const vars = local.Environment.Variables;
  expect(Object.keys(vars).sort()).toEqual(expected.sort());
  // The local stack's resources, by the names it gives them (prefix notes-local).
  if (vars.TABLE_NAME !== undefined) expect(vars.TABLE_NAME).toBe('notes-local');
  if (vars.EVENT_BUS_NAME !== undefined) expect(vars.EVENT_BUS_NAME).toBe('notes-local-bus');
  // Machine-local values are declared empty, for events/env.json to fill: never a secret in the template.
  for (const key of SAM_ENV_FROM_FILE) if (key in vars) expect(vars[key]).toBe('');
  for (const value of Object.values(vars)) expect(typeof value).toBe('string');
});

test('no function may read a secret: the key comes from the environment locally', () => {
  for (const name of FUNCTIONS) {
    expect(JSON.stringify(statementsOf(sam.template, name))).not.toMatch(/secretsmanager/);
  }
});

test("no queue locally: a sendsTo's BROADCAST_QUEUE_URL is left for events/env.json, and no SQS permission is granted", () => {
  const senders = functionsWhere((f) => f.sendsTo !== undefined);
  expect(senders.length).toBeGreaterThan(0);
  for (const name of senders) {
    expect(functionProps(sam.template, name).Environment.Variables.BROADCAST_QUEUE_URL).toBe('');
  }
  expect(SAM_ENV_FROM_FILE).toContain('BROADCAST_QUEUE_URL');
  for (const name of FUNCTIONS) expect(JSON.stringify(statementsOf(sam.template, name))).not.toMatch(/sqs:/);
});

test('cdk-nag finds nothing unsuppressed in it either', () => {
  const a = Annotations.fromStack(sam.stack);
  const findings = [
    ...a.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ...a.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
  ];
  expect(findings.map((f) => `${f.id}: ${String(f.entry.data).slice(0, 120)}`)).toEqual([]);
});

test('-c stage=<name> with -c sam=true targets a local stack started with --prefix notes-<name>', () => {
  const other = synthSam({ stage: 'alt' });
  expect(other.stack.stackName).toBe('notes-alt-sam');
  const tableUser = aFunctionWhere((f) => f.environment.includes('TABLE_NAME'), 'reads TABLE_NAME');
  expect(functionProps(other.template, tableUser).Environment.Variables.TABLE_NAME).toBe('notes-alt');
});
