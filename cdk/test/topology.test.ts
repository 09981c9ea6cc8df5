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

test('topology.json declares the 14 functions of the suite, and the app builds exactly those', () => {
  const suite = [
    'publish-note', 'save-note', 'notify', 'connect', 'disconnect', 'ws-default', 'signup', 'login',
    'get-user', 'get-notes', 'get-public-notes', 'get-note', 'update-note', 'delete-note',
  ];
  expect(Object.keys(topology.functions).sort()).toEqual(suite.sort());
  expect([...FUNCTION_NAMES].sort()).toEqual(suite.sort());
  expect(Object.keys(s.backend.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^notes suite: ') } }))).toHaveLength(14);
});

test('the queue feeds save-note and the results rule invokes notify, as their triggers declare', () => {
  expect(topology.functions['save-note'].trigger).toEqual({ queue: 'noteCreated' });
  expect(topology.functions.notify.trigger).toEqual({ rule: 'noteResultsToNotify' });
});

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

test('note-created queue settings equal topology.json, DLQ after maxReceiveCount', () => {
  const q = topology.queues.noteCreated;
  s.backend.hasResourceProperties('AWS::SQS::Queue', {
    VisibilityTimeout: q.visibilityTimeoutSeconds,
    ReceiveMessageWaitTimeSeconds: q.receiveWaitTimeSeconds,
    MessageRetentionPeriod: q.retentionSeconds,
    RedrivePolicy: {
      maxReceiveCount: q.maxReceiveCount,
      deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NoteCreatedDlq'), 'Arn'] },
    },
  });
});

test('the queue visibility timeout is at least six times save-note timeout', () => {
  const queues = s.backend.findResources('AWS::SQS::Queue', {
    Properties: { RedrivePolicy: Match.anyValue() },
  });
  const [queue] = Object.values(queues) as any[];
  expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functionProps(s.backend, 'save-note').Timeout);
});

test('DLQ retention equals topology.json (14 days)', () => {
  const dlqs = Object.entries(s.backend.findResources('AWS::SQS::Queue')).filter(([id]) => /Dlq/.test(id));
  expect(dlqs).toHaveLength(3);
  const byId = Object.fromEntries(dlqs.map(([id, r]: [string, any]) => [id.replace(/[0-9A-F]{8}$/, ''), r]));
  expect(byId.NoteCreatedDlq.Properties.MessageRetentionPeriod).toBe(topology.queues.noteCreatedDlq.retentionSeconds);
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

test('event source mapping save-note <- queue equals topology.json, with its maximum concurrency', () => {
  const e = topology.saveNoteEventSource;
  s.backend.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
  s.backend.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    FunctionName: { Ref: functionLogicalId(s.backend, 'save-note') },
    EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NoteCreatedQueue'), 'Arn'] },
    BatchSize: e.batchSize,
    MaximumBatchingWindowInSeconds: e.maximumBatchingWindowSeconds,
    FunctionResponseTypes: e.reportBatchItemFailures ? ['ReportBatchItemFailures'] : Match.absent(),
    ScalingConfig: { MaximumConcurrency: e.maximumConcurrency },
  });
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
