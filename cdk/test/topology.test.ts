import * as fs from 'fs';
import * as path from 'path';
import { Match } from 'aws-cdk-lib/assertions';
import { EVENT_TYPES, FUNCTION_NAMES, TOPOLOGY_PATH, loadEventSchema } from '../lib/config';
import { functionLogicalId, functionProps, synth, Synthesized } from './synthesize';

// Read the JSON independently of the app code: the test holds the synthesized template to the file.
const topology = JSON.parse(fs.readFileSync(path.join(__dirname, '../../shared/topology.json'), 'utf-8'));

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

test('the app reads ../shared/topology.json relative to the cdk folder', () => {
  expect(path.resolve(TOPOLOGY_PATH)).toBe(path.resolve(__dirname, '../../shared/topology.json'));
});

test('topology.json declares the 15 functions of the suite, and the app builds exactly those', () => {
  const suite = [
    'publish-note', 'save-note', 'notify', 'broadcast', 'connect', 'disconnect', 'ws-default', 'signup', 'login',
    'get-user', 'get-notes', 'get-public-notes', 'get-note', 'update-note', 'delete-note',
  ];
  expect(Object.keys(topology.functions).sort()).toEqual(suite.sort());
  expect([...FUNCTION_NAMES].sort()).toEqual(suite.sort());
  expect(Object.keys(s.backend.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^notes suite: ') } }))).toHaveLength(15);
});

test('the queues feed save-note and broadcast, the results rule invokes notify, which sends to the broadcast queue', () => {
  expect(topology.functions['save-note'].trigger).toEqual({ queue: 'noteCreated' });
  expect(topology.functions.broadcast.trigger).toEqual({ queue: 'broadcastShards' });
  expect(topology.functions.notify.trigger).toEqual({ rule: 'noteResultsToNotify' });
  expect(topology.functions.notify.sendsTo).toBe('broadcastShards');
  expect(topology.saveNoteEventSource).toBeUndefined();
});

// The work queues (a queue with a redrive), their resource ids and the function each one feeds.
const workQueues: Array<[string, string, string]> = [
  ['noteCreated', 'NoteCreated', 'save-note'],
  ['broadcastShards', 'BroadcastShards', 'broadcast'],
];
const queueTriggered = Object.entries<any>(topology.functions).filter(([, f]) => f.trigger.queue).map(([name]) => name);

test.each(Object.keys(topology.functions))('function %s: memory and timeout equal topology.json', (name) => {
  const props = functionProps(s.backend, name);
  expect(props.MemorySize).toBe(topology.functions[name].memoryMb);
  expect(props.Timeout).toBe(topology.functions[name].timeoutSeconds);
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
  expect(feed).toEqual({ indexName: 'publicFeed', partitionKey: 'feedPk', sortKey: 'feedSk', shards: 4 });
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

const queuesById = () =>
  Object.fromEntries(
    Object.entries(s.backend.findResources('AWS::SQS::Queue')).map(([id, r]: [string, any]) => [id.replace(/[0-9A-F]{8}$/, ''), r]),
  );

test('the work queues of topology.json are exactly the queues with a redrive policy', () => {
  const redriven = Object.keys(s.backend.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }));
  expect(redriven.map((id) => id.replace(/Queue[0-9A-F]{8}$/, '')).sort()).toEqual(workQueues.map(([, id]) => id).sort());
  const declared = Object.entries<any>(topology.queues).filter(([, q]) => q.maxReceiveCount !== undefined).map(([key]) => key);
  expect(declared.sort()).toEqual(workQueues.map(([key]) => key).sort());
});

test.each(workQueues)('queue %s: settings equal topology.json, name notes-<stage>-<queue>, DLQ after maxReceiveCount', (key, id) => {
  const q = topology.queues[key];
  const queue = queuesById()[`${id}Queue`];
  expect(queue.Properties).toEqual(
    expect.objectContaining({
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
  expect(dlq.Properties.MessageRetentionPeriod).toBe(topology.queues[`${key}Dlq`].retentionSeconds);
  expect(dlq.Properties.RedrivePolicy).toBeUndefined();
});

test('the broadcast queue: 180 s visibility, 20 s long polling, an hour of retention, DLQ (14 days) after 3 receives', () => {
  const queue = queuesById().BroadcastShardsQueue.Properties;
  expect(queue.QueueName).toBe('notes-dev-broadcast-shards');
  expect(queue.VisibilityTimeout).toBe(180);
  expect(queue.ReceiveMessageWaitTimeSeconds).toBe(20);
  expect(queue.MessageRetentionPeriod).toBe(3600);
  expect(queue.RedrivePolicy.maxReceiveCount).toBe(3);
  const dlq = queuesById().BroadcastShardsDlq.Properties;
  expect(dlq.QueueName).toBe('notes-dev-broadcast-shards-dlq');
  expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  expect(queue.RedrivePolicy.deadLetterTargetArn).toEqual({
    'Fn::GetAtt': [Object.keys(s.backend.findResources('AWS::SQS::Queue')).find((x) => /^BroadcastShardsDlq/.test(x)), 'Arn'],
  });
});

test.each(workQueues)("queue %s: visibility timeout at least six times its consumer's timeout", (key, id, fn) => {
  expect(topology.functions[fn].trigger).toEqual({ queue: key });
  expect(queuesById()[`${id}Queue`].Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functionProps(s.backend, fn).Timeout);
});

test('DLQ retention equals topology.json (14 days)', () => {
  const dlqs = Object.entries(s.backend.findResources('AWS::SQS::Queue')).filter(([id]) => /Dlq/.test(id));
  expect(dlqs).toHaveLength(4);
  const byId = queuesById();
  expect(byId.NoteCreatedDlq.Properties.MessageRetentionPeriod).toBe(topology.queues.noteCreatedDlq.retentionSeconds);
  expect(byId.BroadcastShardsDlq.Properties.MessageRetentionPeriod).toBe(topology.queues.broadcastShardsDlq.retentionSeconds);
  expect(byId.NoteCreatedRuleDlq.Properties.MessageRetentionPeriod).toBe(topology.queues.noteCreatedRuleDlq.retentionSeconds);
  expect(byId.NotifyDlq.Properties.MessageRetentionPeriod).toBe(topology.queues.notifyDlq.retentionSeconds);
  expect(topology.queues.noteCreatedDlq.retentionSeconds).toBe(14 * 24 * 3600);
});

test('rule note-created -> queue: pattern, retry policy and DLQ equal topology.json', () => {
  const r = topology.rules.noteCreatedToQueue;
  expect(r.deadLetterQueue).toBe('noteCreatedRuleDlq');
  s.backend.hasResourceProperties('AWS::Events::Rule', {
    EventBusName: { Ref: Match.stringLikeRegexp('^EventBus') },
    EventPattern: r.eventPattern,
    Targets: [
      Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NoteCreatedQueue'), 'Arn'] },
        RetryPolicy: {
          MaximumRetryAttempts: r.retryPolicy.maximumRetryAttempts,
          MaximumEventAgeInSeconds: r.retryPolicy.maximumEventAgeSeconds,
        },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NoteCreatedRuleDlq'), 'Arn'] } },
      }),
    ],
  });
});

test("EventBridge may send to the note-created rule's DLQ (queue policy, this rule only)", () => {
  const policies = Object.values(s.backend.findResources('AWS::SQS::QueuePolicy')) as any[];
  const forDlq = policies.filter((p) => p.Properties.Queues.some((q: any) => /^NoteCreatedRuleDlq/.test(q.Ref)));
  expect(forDlq).toHaveLength(1);
  const allow = forDlq[0].Properties.PolicyDocument.Statement.filter((x: any) => x.Effect === 'Allow');
  expect(allow).toEqual([
    expect.objectContaining({
      Action: 'sqs:SendMessage',
      Principal: { Service: 'events.amazonaws.com' },
      Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [expect.stringMatching(/^NoteCreatedRule/), 'Arn'] } } },
    }),
  ]);
});

test('rule results -> notify: pattern, retry policy and DLQ equal topology.json', () => {
  const r = topology.rules.noteResultsToNotify;
  s.backend.hasResourceProperties('AWS::Events::Rule', {
    EventBusName: { Ref: Match.stringLikeRegexp('^EventBus') },
    EventPattern: r.eventPattern,
    Targets: [
      Match.objectLike({
        Arn: { 'Fn::GetAtt': [functionLogicalId(s.backend, 'notify'), 'Arn'] },
        RetryPolicy: {
          MaximumRetryAttempts: r.retryPolicy.maximumRetryAttempts,
          MaximumEventAgeInSeconds: r.retryPolicy.maximumEventAgeSeconds,
        },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotifyDlq'), 'Arn'] } },
      }),
    ],
  });
});

test('the event catalog is published in a schema registry, one schema per event type, as committed', () => {
  s.backend.resourceCountIs('AWS::EventSchemas::Registry', 1);
  const schemas = Object.values(s.backend.findResources('AWS::EventSchemas::Schema')) as any[];
  expect(schemas.map((x) => x.Properties.SchemaName).sort()).toEqual(
    EVENT_TYPES.map((t) => `notes.service@${t}`).sort(),
  );
  for (const eventType of EVENT_TYPES) {
    const schema = schemas.find((x) => x.Properties.SchemaName === `notes.service@${eventType}`);
    expect(schema.Properties.Type).toBe('JSONSchemaDraft4');
    expect(schema.Properties.Content).toBe(loadEventSchema(eventType));
  }
});

test('a failed notify invocation is retried by Lambda, then sent to the notify DLQ', () => {
  s.backend.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
    FunctionName: { Ref: functionLogicalId(s.backend, 'notify') },
    MaximumRetryAttempts: 2,
    MaximumEventAgeInSeconds: topology.rules.noteResultsToNotify.retryPolicy.maximumEventAgeSeconds,
    DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotifyDlq'), 'Arn'] } } },
  });
});

test('one event source mapping per queue-triggered function, and one mapping of topology.json per such function', () => {
  expect(queueTriggered.sort()).toEqual(workQueues.map(([, , fn]) => fn).sort());
  expect(Object.keys(topology.eventSourceMappings).sort()).toEqual(workQueues.map(([key]) => key).sort());
  s.backend.resourceCountIs('AWS::Lambda::EventSourceMapping', queueTriggered.length);
});

test.each(workQueues)('event source mapping %s -> its function equals topology.json, with its maximum concurrency', (key, id, fn) => {
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

test('the broadcast event source: batches of 10, no batching window, partial batch failures, at most 10 at once', () => {
  expect(topology.eventSourceMappings.broadcastShards).toEqual({
    batchSize: 10,
    maximumBatchingWindowSeconds: 0,
    reportBatchItemFailures: true,
    maximumConcurrency: 10,
  });
});

test('archive of all events equals topology.json', () => {
  s.backend.resourceCountIs('AWS::Events::Archive', 1);
  s.backend.hasResourceProperties('AWS::Events::Archive', {
    SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventBus'), 'Arn'] },
    EventPattern: topology.archive.eventPattern,
    RetentionDays: topology.archive.retentionDays,
  });
});
