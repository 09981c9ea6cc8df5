import * as fs from 'fs';
import * as path from 'path';
import { Match } from 'aws-cdk-lib/assertions';
import { FUNCTION_NAMES, REPO_DIR, TOPOLOGY_PATH, loadEventSchema } from '../lib/config';
import {
  DEAD_LETTER_QUEUES,
  FUNCTIONS,
  QUEUES,
  RULES,
  STREAM_TRIGGERED,
  WORK_QUEUES,
  declaration as topology,
  declared,
  functionsWhere,
  idOfKey,
  kebabOfKey,
  schemaEventTypes,
} from './declaration';
import { functionLogicalId, functionProps, synth, Synthesized } from './synthesize';

// The declaration is read independently of the app code (./declaration): the test holds the
// synthesized template to the file, and every list it checks is the file's.

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

test('the app reads ../shared/topology.json relative to the cdk folder', () => {
  expect(path.resolve(TOPOLOGY_PATH)).toBe(path.resolve(__dirname, '../../shared/topology.json'));
});

test('the app builds exactly the functions topology.json declares, one per crate under functions/', () => {
  expect(FUNCTIONS.length).toBeGreaterThan(0);
  expect([...FUNCTION_NAMES].sort()).toEqual([...FUNCTIONS].sort());
  const built = Object.values(
    s.backend.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^notes suite: ') } }),
  ).map((f: any) => f.Properties.Description.replace(/^notes suite: /, ''));
  expect(built.sort()).toEqual([...FUNCTIONS].sort());
  // The crates are the other record of the functions: a declaration lost (or a crate left undeclared) shows here.
  const crates = fs
    .readdirSync(path.join(REPO_DIR, 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(REPO_DIR, 'functions', d.name, 'Cargo.toml')))
    .map((d) => d.name);
  expect(crates.sort()).toEqual([...FUNCTIONS].sort());
  expect(topology.saveNoteEventSource).toBeUndefined();
});

/** The table's stream ARN, as the backend imports it from the data stack. */
const TABLE_STREAM_ARN = { 'Fn::ImportValue': expect.stringMatching(/^notes-dev-data:ExportsOutputFnGetAttTable[0-9A-F]{8}StreamArn/) };
const isTableStream = (arn: any) => typeof arn?.['Fn::ImportValue'] === 'string' && /^notes-dev-data:.*Table[0-9A-F]{8}StreamArn/.test(arn['Fn::ImportValue']);

// What invokes a function in the template, read back from the resources that point at it.
function invokersOf(name: string): { routes: string[]; queues: string[]; tableStream: number; rules: unknown[] } {
  const id = functionLogicalId(s.backend, name);
  const pointsAtIt = (x: unknown) => JSON.stringify(x).includes(`"${id}"`);
  const integrations = s.backend.findResources('AWS::ApiGatewayV2::Integration');
  const routes = (Object.values(s.backend.findResources('AWS::ApiGatewayV2::Route')) as any[])
    .filter((r) => pointsAtIt(integrations[r.Properties.Target['Fn::Join'][1][1].Ref].Properties.IntegrationUri))
    .map((r) => r.Properties.RouteKey);
  const mappings = (Object.values(s.backend.findResources('AWS::Lambda::EventSourceMapping')) as any[]).filter((m) =>
    pointsAtIt(m.Properties.FunctionName),
  );
  const queues = mappings
    .filter((m) => !isTableStream(m.Properties.EventSourceArn))
    .map((m) => m.Properties.EventSourceArn['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, ''));
  const tableStream = mappings.filter((m) => isTableStream(m.Properties.EventSourceArn)).length;
  const rules = (Object.values(s.backend.findResources('AWS::Events::Rule')) as any[])
    .filter((r) => r.Properties.Targets.some((t: any) => pointsAtIt(t.Arn)))
    .map((r) => r.Properties.EventPattern);
  return { routes, queues, tableStream, rules };
}

test.each(FUNCTIONS)('function %s is invoked by exactly the trigger topology.json declares, and by nothing else', (name) => {
  const t = declared(name).trigger;
  expect(invokersOf(name)).toEqual({
    routes: t.http ? [`${t.http.method} ${t.http.path}`] : t.webSocket ? [t.webSocket] : [],
    queues: t.queue ? [`${idOfKey(t.queue)}Queue`] : [],
    tableStream: t.stream ? 1 : 0,
    rules: t.rule ? [topology.rules[t.rule].eventPattern] : [],
  });
});

test.each(FUNCTIONS)('function %s: memory and timeout equal topology.json', (name) => {
  const props = functionProps(s.backend, name);
  expect(props.MemorySize).toBe(declared(name).memoryMb);
  expect(props.Timeout).toBe(declared(name).timeoutSeconds);
});

test('table keys and TTL attribute equal topology.json', () => {
  s.data.hasResourceProperties('AWS::DynamoDB::Table', {
    KeySchema: [
      { AttributeName: topology.table.partitionKey, KeyType: 'HASH' },
      { AttributeName: topology.table.sortKey, KeyType: 'RANGE' },
    ],
    TimeToLiveSpecification: { AttributeName: topology.table.ttlAttribute, Enabled: true },
  });
});

test("the table has the public feed index of topology.json: its keys (strings), projection ALL, on demand", () => {
  const feed = topology.table.publicFeed;
  const [table] = Object.values(s.data.findResources('AWS::DynamoDB::Table')) as any[];
  expect(table.Properties.GlobalSecondaryIndexes).toEqual([
    {
      IndexName: feed.indexName,
      KeySchema: [
        { AttributeName: feed.partitionKey, KeyType: 'HASH' },
        { AttributeName: feed.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ]);
  expect(table.Properties.AttributeDefinitions).toEqual(
    expect.arrayContaining([
      { AttributeName: feed.partitionKey, AttributeType: 'S' },
      { AttributeName: feed.sortKey, AttributeType: 'S' },
    ]),
  );
  expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
});

test("the table has the stream topology.json declares (table.stream), which the backend imports for its stream mappings", () => {
  const [table] = Object.values(s.data.findResources('AWS::DynamoDB::Table')) as any[];
  expect(topology.table.stream).toBe('NEW_AND_OLD_IMAGES');
  expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: topology.table.stream });
  // The stream's ARN crosses stacks as an export of the data stack, only if a stream mapping reads it.
  const [tableId] = Object.keys(s.data.findResources('AWS::DynamoDB::Table'));
  const exported = Object.values<any>(s.data.toJSON().Outputs).filter(
    (o) => JSON.stringify(o.Value) === JSON.stringify({ 'Fn::GetAtt': [tableId, 'StreamArn'] }),
  );
  expect(exported).toHaveLength(STREAM_TRIGGERED.length > 0 ? 1 : 0);
});

const queuesById = () =>
  Object.fromEntries(
    Object.entries(s.backend.findResources('AWS::SQS::Queue')).map(([id, r]: [string, any]) => [id.replace(/[0-9A-F]{8}$/, ''), r]),
  );
/** The construct id of a queue of topology.json: `<Key>Queue` for a work queue, `<Key>` for a dead-letter queue. */
const queueId = (key: string) => (DEAD_LETTER_QUEUES.includes(key) ? idOfKey(key) : `${idOfKey(key)}Queue`);

test('every queue of topology.json, and no other, is created as notes-<stage>-<queue> (its key in kebab case)', () => {
  const names = (Object.values(s.backend.findResources('AWS::SQS::Queue')) as any[]).map((q) => q.Properties.QueueName);
  expect(names.sort()).toEqual(QUEUES.map((key) => `notes-dev-${kebabOfKey(key)}`).sort());
  expect(Object.keys(queuesById()).sort()).toEqual(QUEUES.map(queueId).sort());
});

test('the work queues of topology.json are exactly the queues with a redrive policy', () => {
  const redriven = Object.keys(s.backend.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }));
  expect(WORK_QUEUES.length).toBeGreaterThan(0);
  expect(redriven.map((id) => id.replace(/Queue[0-9A-F]{8}$/, '')).sort()).toEqual(WORK_QUEUES.map(([, id]) => id).sort());
});

test.each(WORK_QUEUES)('queue %s: settings equal topology.json, name notes-<stage>-<queue>, DLQ <queue>Dlq after maxReceiveCount', (key, id) => {
  const q = topology.queues[key];
  const queue = queuesById()[`${id}Queue`];
  expect(queue.Properties).toEqual(
    expect.objectContaining({
      QueueName: `notes-dev-${kebabOfKey(key)}`,
      VisibilityTimeout: q.visibilityTimeoutSeconds,
      ReceiveMessageWaitTimeSeconds: q.receiveWaitTimeSeconds,
      MessageRetentionPeriod: q.retentionSeconds,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        maxReceiveCount: q.maxReceiveCount,
        deadLetterTargetArn: { 'Fn::GetAtt': [expect.stringMatching(`^${id}Dlq[0-9A-F]{8}$`), 'Arn'] },
      },
    }),
  );
  const dlq = queuesById()[`${id}Dlq`];
  expect(dlq.Properties.QueueName).toBe(`notes-dev-${kebabOfKey(key)}-dlq`);
  expect(dlq.Properties.MessageRetentionPeriod).toBe(topology.queues[`${key}Dlq`].retentionSeconds);
  expect(dlq.Properties.RedrivePolicy).toBeUndefined();
});

// SQS keeps a message's first enqueue time when it moves it to the DLQ: a DLQ that kept messages no
// longer than its queue would drop what it just received.
test.each(WORK_QUEUES)('queue %s: its DLQ keeps messages longer than the queue does', (key) => {
  expect(topology.queues[`${key}Dlq`].retentionSeconds).toBeGreaterThan(topology.queues[key].retentionSeconds);
});

test.each(WORK_QUEUES)("queue %s: visibility timeout at least six times its consumer's timeout", (key, id, fn) => {
  expect(declared(fn).trigger).toEqual({ queue: key });
  expect(queuesById()[`${id}Queue`].Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functionProps(s.backend, fn).Timeout);
});

test.each(DEAD_LETTER_QUEUES)('dead-letter queue %s: retention equals topology.json, no redrive of its own', (key) => {
  const dlq = queuesById()[idOfKey(key)];
  expect(dlq.Properties.MessageRetentionPeriod).toBe(topology.queues[key].retentionSeconds);
  expect(dlq.Properties.RedrivePolicy).toBeUndefined();
});

/** The rule resource whose event pattern is the one topology.json declares for `key`. */
function ruleOf(key: string): [string, any] {
  const found = Object.entries(s.backend.findResources('AWS::Events::Rule')).filter(([, r]: [string, any]) =>
    JSON.stringify(r.Properties.EventPattern) === JSON.stringify(topology.rules[key].eventPattern),
  );
  expect(found).toHaveLength(1);
  return found[0] as [string, any];
}

test('one EventBridge rule per rule of topology.json', () => {
  s.backend.resourceCountIs('AWS::Events::Rule', RULES.length);
});

test.each(RULES)('rule %s: pattern, target, retry policy and DLQ equal topology.json', (key) => {
  const r = topology.rules[key];
  const [, rule] = ruleOf(key);
  // A rule names its target queue, or it invokes the one function whose trigger names the rule.
  const invoked = functionsWhere((f) => f.trigger.rule === key);
  expect(invoked).toHaveLength(r.target === undefined ? 1 : 0);
  const target = r.target === undefined ? functionLogicalId(s.backend, invoked[0]) : expect.stringMatching(`^${queueId(r.target)}[0-9A-F]{8}$`);
  expect(rule.Properties.EventBusName).toEqual({ Ref: expect.stringMatching(/^EventBus/) });
  expect(rule.Properties.Targets).toEqual([
    expect.objectContaining({
      Arn: { 'Fn::GetAtt': [target, 'Arn'] },
      RetryPolicy: {
        MaximumRetryAttempts: r.retryPolicy.maximumRetryAttempts,
        MaximumEventAgeInSeconds: r.retryPolicy.maximumEventAgeSeconds,
      },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(`^${queueId(r.deadLetterQueue)}[0-9A-F]{8}$`), 'Arn'] } },
    }),
  ]);
});

test.each(RULES)("rule %s: EventBridge may send to the rule's DLQ (and target queue), for this rule only", (key) => {
  const r = topology.rules[key];
  const [ruleId] = ruleOf(key);
  const policies = Object.values(s.backend.findResources('AWS::SQS::QueuePolicy')) as any[];
  for (const queue of [r.deadLetterQueue, ...(r.target === undefined ? [] : [r.target])]) {
    const forQueue = policies.filter((p) => p.Properties.Queues.some((q: any) => q.Ref.startsWith(queueId(queue))));
    expect(forQueue).toHaveLength(1);
    const fromEvents = forQueue[0].Properties.PolicyDocument.Statement.filter(
      (x: any) => x.Effect === 'Allow' && x.Principal?.Service === 'events.amazonaws.com',
    );
    expect(fromEvents).toHaveLength(1);
    expect([].concat(fromEvents[0].Action)).toContain('sqs:SendMessage');
    expect(fromEvents[0].Condition).toEqual({ ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } });
  }
});

test('the event catalog is published in a schema registry, one schema per schema file in shared/schemas/, as committed', () => {
  s.backend.resourceCountIs('AWS::EventSchemas::Registry', 1);
  const eventTypes = schemaEventTypes();
  const schemas = Object.values(s.backend.findResources('AWS::EventSchemas::Schema')) as any[];
  expect(schemas.map((x) => x.Properties.SchemaName).sort()).toEqual(eventTypes.map((t) => `${topology.eventSource}@${t}`).sort());
  for (const eventType of eventTypes) {
    const schema = schemas.find((x) => x.Properties.SchemaName === `${topology.eventSource}@${eventType}`);
    expect(schema.Properties.Type).toBe('JSONSchemaDraft4');
    expect(schema.Properties.Content).toBe(loadEventSchema(eventType));
  }
});

test.each(functionsWhere((f) => !!f.trigger.rule))(
  "a failed %s invocation is retried by Lambda, then sent to its rule's DLQ (its on-failure destination)",
  (name) => {
    const rule = topology.rules[declared(name).trigger.rule!];
    s.backend.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionLogicalId(s.backend, name) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: rule.retryPolicy.maximumEventAgeSeconds,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${queueId(rule.deadLetterQueue)}`), 'Arn'] } },
      },
    });
  },
);

test('one event source mapping per work queue (eventSourceMappings) and per stream mapping (streams), each feeding the function its trigger names', () => {
  const queueTriggered = functionsWhere((f) => !!f.trigger.queue);
  expect(queueTriggered.sort()).toEqual(WORK_QUEUES.map(([, , fn]) => fn).sort());
  expect(Object.keys(topology.eventSourceMappings).sort()).toEqual(WORK_QUEUES.map(([key]) => key).sort());
  expect(Object.keys(topology.streams ?? {}).sort()).toEqual(STREAM_TRIGGERED.map(([, key]) => key).sort());
  s.backend.resourceCountIs('AWS::Lambda::EventSourceMapping', WORK_QUEUES.length + STREAM_TRIGGERED.length);
});

test.each(STREAM_TRIGGERED)(
  "function %s: the table stream's event source mapping (%s) equals topology.json: settings, filter, on-failure queue",
  (fn, key, onFailure) => {
    const m = topology.streams[key];
    const mappings = Object.values(
      s.backend.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: functionLogicalId(s.backend, fn) } } }),
    ) as any[];
    expect(mappings).toHaveLength(1);
    const { Properties: p } = mappings[0];
    expect(p.EventSourceArn).toEqual(TABLE_STREAM_ARN);
    expect(p.StartingPosition).toBe(m.startingPosition);
    expect(p.BatchSize).toBe(m.batchSize);
    expect(p.MaximumBatchingWindowInSeconds ?? 0).toBe(m.maximumBatchingWindowSeconds);
    expect(p.FunctionResponseTypes).toEqual(m.reportBatchItemFailures ? ['ReportBatchItemFailures'] : undefined);
    expect(p.BisectBatchOnFunctionError).toBe(m.bisectBatchOnFunctionError);
    expect(p.MaximumRetryAttempts).toBe(m.maximumRetryAttempts);
    expect(p.MaximumRecordAgeInSeconds).toBe(m.maximumRecordAgeSeconds);
    // One filter, the declared pattern: only the records it matches reach the function.
    expect(p.FilterCriteria).toEqual({ Filters: [{ Pattern: JSON.stringify(m.filterPattern) }] });
    expect(JSON.parse(p.FilterCriteria.Filters[0].Pattern)).toEqual(m.filterPattern);
    // What the mapping gives up on goes to its own queue of topology.json.
    expect(p.DestinationConfig).toEqual({
      OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(`^${idOfKey(onFailure)}[0-9A-F]{8}$`), 'Arn'] } },
    });
    expect(DEAD_LETTER_QUEUES).toContain(onFailure);
    // Nothing the declaration does not ask for: no parallelization, tumbling window, SQS scaling or SQS DLQ.
    for (const absent of ['ParallelizationFactor', 'TumblingWindowInSeconds', 'ScalingConfig', 'Enabled']) expect(p[absent]).toBeUndefined();
    // pollsPerSecond is the local stack's (Lambda polls at its own rate): it has no place in the template.
    expect(JSON.stringify(p)).not.toMatch(/[Pp]oll/);
  },
);

test.each(STREAM_TRIGGERED)("function %s: its mapping's on-failure queue is its own, consumed by nothing", (fn, key, onFailure) => {
  const others = [
    ...WORK_QUEUES.flatMap(([q]) => [q, `${q}Dlq`]),
    ...RULES.map((r) => topology.rules[r].deadLetterQueue),
    ...STREAM_TRIGGERED.filter(([, other]) => other !== key).map(([, , q]) => q),
  ];
  expect(others).not.toContain(onFailure);
  const queueIds = Object.keys(s.backend.findResources('AWS::SQS::Queue')).filter((id) => new RegExp(`^${idOfKey(onFailure)}[0-9A-F]{8}$`).test(id));
  expect(queueIds).toHaveLength(1);
  const fromQueue = (Object.values(s.backend.findResources('AWS::Lambda::EventSourceMapping')) as any[]).filter((m) =>
    JSON.stringify(m.Properties.EventSourceArn).includes(`"${queueIds[0]}"`),
  );
  expect(fromQueue).toEqual([]);
  expect(declared(fn).trigger).toEqual({ stream: key });
});

test.each(WORK_QUEUES)('event source mapping %s -> its function equals topology.json, with its maximum concurrency', (key, id, fn) => {
  const e = topology.eventSourceMappings[key];
  const mappings = Object.values(
    s.backend.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: functionLogicalId(s.backend, fn) } } }),
  ) as any[];
  expect(mappings).toHaveLength(1);
  const { Properties: p } = mappings[0];
  expect(p.EventSourceArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(`^${id}Queue[0-9A-F]{8}$`), 'Arn'] });
  expect(p.BatchSize).toBe(e.batchSize);
  // CDK leaves a zero batching window out of the template: Lambda's default is 0.
  expect(p.MaximumBatchingWindowInSeconds ?? 0).toBe(e.maximumBatchingWindowSeconds);
  expect(p.FunctionResponseTypes).toEqual(e.reportBatchItemFailures ? ['ReportBatchItemFailures'] : undefined);
  expect(p.ScalingConfig).toEqual({ MaximumConcurrency: e.maximumConcurrency });
  expect(e.maximumConcurrency).toBeGreaterThanOrEqual(2); // Lambda's minimum
});

test('archive of all events equals topology.json', () => {
  s.backend.resourceCountIs('AWS::Events::Archive', 1);
  s.backend.hasResourceProperties('AWS::Events::Archive', {
    SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventBus'), 'Arn'] },
    EventPattern: topology.archive.eventPattern,
    RetentionDays: topology.archive.retentionDays,
  });
});
