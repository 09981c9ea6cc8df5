/**
 * shared/topology.json as the app reads it: the table (and its stream), archive, queues, rules and
 * stream mappings, and the one declaration of each function (trigger, limits, configuration,
 * permissions), checked before use.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The cdk/ folder, whatever the working directory of the caller is. */
export const CDK_DIR = path.resolve(__dirname, '..');
/** The repository root (cdk/..). */
export const REPO_DIR = path.resolve(CDK_DIR, '..');

/** shared/topology.json: the event topology shared with the local stack (local/). */
export const TOPOLOGY_PATH = path.join(CDK_DIR, '../shared/topology.json');

/** Configuration variables a function may declare (docs/configuration.md). */
export const ENV_KEYS = [
  'TABLE_NAME',
  'EVENT_BUS_NAME',
  'WEBSOCKET_MANAGEMENT_ENDPOINT',
  'JWT_SECRET_ARN',
  'JWT_TTL_SECONDS',
  'BROADCAST_QUEUE_URL',
] as const;
export type EnvKey = (typeof ENV_KEYS)[number];

/** What invokes a function: exactly one of these (as topology.json writes it). */
export interface Trigger {
  readonly http?: { readonly method: string; readonly path: string };
  /** A WebSocket route key: `$connect`, `$disconnect`, `$default`. */
  readonly webSocket?: string;
  /** A work queue of `queues`, whose event source mapping (`eventSourceMappings`) hands it batches. */
  readonly queue?: string;
  /** A key of `rules`, which invokes it asynchronously. */
  readonly rule?: string;
  /** A key of `streams`: the event source mapping that hands it batches of the table stream's records. */
  readonly stream?: string;
}

/** The one declaration of a function in topology.json: trigger, limits, configuration, permissions. */
export interface FunctionDeclaration {
  readonly trigger: Trigger;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: EnvKey[];
  /**
   * The DynamoDB actions its adapters call (a transaction is authorized by the actions of its parts),
   * granted on the table, or only on the index `queriesIndex` names when it names one.
   */
  readonly tableActions: string[];
  /**
   * The index of the table it queries (`table.publicFeed.indexName`): its `tableActions` are granted on
   * that index's ARN (`<table ARN>/index/<name>`) only, not on the table.
   */
  readonly queriesIndex?: string;
  readonly putEvents?: boolean;
  readonly readSecret?: boolean;
  /** Posts to WebSocket connections through the Management API. */
  readonly manageConnections?: boolean;
  /** Hashes passwords (argon2id): its route gets the tighter throttle of `authThrottle`. */
  readonly hashesPasswords?: boolean;
  /**
   * A work queue of `queues` it sends messages to (SendMessage, SendMessageBatch): sqs:SendMessage on
   * that queue only, and that queue's URL in `BROADCAST_QUEUE_URL`.
   */
  readonly sendsTo?: string;
}

/** A queue a function consumes: redriven to its dead-letter queue (`<key>Dlq`) after `maxReceiveCount` receives. */
export interface WorkQueue {
  readonly visibilityTimeoutSeconds: number;
  readonly receiveWaitTimeSeconds: number;
  readonly retentionSeconds: number;
  readonly maxReceiveCount: number;
}

/** A dead-letter queue: of a work queue (`<key>Dlq`), or of a rule's target (`deadLetterQueue`). */
export interface DeadLetterQueue {
  readonly retentionSeconds: number;
}

/** How Lambda's SQS event source hands a work queue's messages to the function its trigger names. */
export interface EventSourceMapping {
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  /** Lambda's MaximumConcurrency for the SQS event source (2 to 1000). */
  readonly maximumConcurrency: number;
}

/** The table stream's view types DynamoDB offers (`table.stream`). */
export const STREAM_VIEW_TYPES = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'] as const;
export type StreamViewTypeName = (typeof STREAM_VIEW_TYPES)[number];

/** Where a DynamoDB stream event source starts reading a shard (AT_TIMESTAMP is Kinesis only). */
export const STREAM_STARTING_POSITIONS = ['TRIM_HORIZON', 'LATEST'] as const;

/**
 * How Lambda's DynamoDB event source hands the table stream's records to the function whose trigger
 * names it: in order per shard, only the records `filterPattern` matches, retried from the first
 * record the function reports failed (the batch halved on a function error), and, after
 * `maximumRetryAttempts` or once a record is `maximumRecordAgeSeconds` old, the failed batch's
 * description (shard, sequence numbers; not the records) sent to the `onFailure` queue.
 */
export interface StreamMapping {
  readonly startingPosition: (typeof STREAM_STARTING_POSITIONS)[number];
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  /** The local stack's polling rate (local/src/stream_source.rs); Lambda polls at its own, the app ignores it. */
  readonly pollsPerSecond: number;
  readonly reportBatchItemFailures: boolean;
  readonly bisectBatchOnFunctionError: boolean;
  readonly maximumRetryAttempts: number;
  readonly maximumRecordAgeSeconds: number;
  /** Lambda's filter criteria pattern (one filter): only the records it matches reach the function. */
  readonly filterPattern: Record<string, unknown>;
  /** The queue (a key of `queues`, of its own) that takes what the mapping gives up on. */
  readonly onFailure: string;
}

/** A rule of the topology: its pattern, its target, and how EventBridge retries a failed delivery. */
export interface TopologyRule {
  readonly eventPattern: Record<string, string[]>;
  /** The queue it delivers to; a rule that invokes a function is named by that function's trigger. */
  readonly target?: string;
  readonly retryPolicy: { readonly maximumRetryAttempts: number; readonly maximumEventAgeSeconds: number };
  /** The queue (a key of `queues`) that receives events EventBridge could not deliver. */
  readonly deadLetterQueue: string;
}

/**
 * The public feed: a sparse global secondary index of the table. A public note carries `partitionKey`
 * (`PUBLIC#NOTES#{n}`, n in 0..shards-1, spreading the feed's writes over `shards` partitions) and
 * `sortKey`; a private note or a tombstone carries neither, so the index holds the public notes only.
 */
export interface PublicFeedIndex {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly shards: number;
}

export interface Topology {
  readonly eventSource: string;
  readonly table: {
    readonly partitionKey: string;
    readonly sortKey: string;
    readonly ttlAttribute: string;
    readonly publicFeed: PublicFeedIndex;
    /** Partitions of the broadcast's connection list (`CONNECTIONS#{n}`): read by the functions only. */
    readonly connectionShards: number;
    /** The table's stream and what its records carry; needed by a function with a `stream` trigger. */
    readonly stream?: StreamViewTypeName;
  };
  readonly archive: { readonly retentionDays: number; readonly eventPattern: Record<string, string[]> };
  readonly queues: {
    readonly noteCreated: WorkQueue;
    readonly noteCreatedDlq: DeadLetterQueue;
    readonly noteCreatedRuleDlq: DeadLetterQueue;
    readonly notifyDlq: DeadLetterQueue;
    /** The live feed's fan-out: one message per connection shard of each public event (sent by `sendsTo`). */
    readonly broadcastShards: WorkQueue;
    readonly broadcastShardsDlq: DeadLetterQueue;
    /** The on-failure destination of the table stream's mapping `noteChanges`. */
    readonly noteChangesFailed: DeadLetterQueue;
  };
  readonly rules: {
    readonly noteCreatedToQueue: TopologyRule;
    readonly noteResultsToNotify: TopologyRule;
  };
  /** The SQS event source of each work queue a function's `queue` trigger names, keyed by that queue. */
  readonly eventSourceMappings: Readonly<Record<string, EventSourceMapping>>;
  /** The DynamoDB event source of each function whose trigger is `{ "stream": <key> }`, by that key. */
  readonly streams?: Readonly<Record<string, StreamMapping>>;
  /** Every function, by name: its crate, its binary and (with the stage prefix) its Lambda function. */
  readonly functions: Record<string, FunctionDeclaration>;
}

/** The keys of `queues` that name a work queue (`noteCreated`, …), as the type above declares them. */
export type WorkQueueKey = {
  [K in keyof Topology['queues']]: Topology['queues'][K] extends WorkQueue ? K : never;
}[keyof Topology['queues']];

/** shared/schemas/: the event catalog, one JSON Schema (draft-04) per event type. */
export const SCHEMAS_DIR = path.join(CDK_DIR, '../shared/schemas');
export const EVENT_TYPES = ['note-created', 'note-saved', 'note-failed', 'note-updated', 'note-deleted'] as const;

export function loadEventSchema(eventType: string): string {
  return fs.readFileSync(path.join(SCHEMAS_DIR, `${eventType}.schema.json`), 'utf-8');
}

/** Reads shared/topology.json afresh (no require cache), so tests compare against the file on disk. */
export function loadTopology(file: string = TOPOLOGY_PATH): Topology {
  const topology = JSON.parse(fs.readFileSync(file, 'utf-8')) as Topology;
  checkTable(topology);
  checkQueues(topology);
  checkFunctionDeclarations(topology);
  return topology;
}

const PUBLIC_FEED_KEYS = new Set(['indexName', 'partitionKey', 'sortKey', 'shards']);

/**
 * Refuses a table the app could not create as written: the public feed index (`table.publicFeed`)
 * without its name or keys, with keys that clash with the table's, or without a whole number of shards;
 * a connection list (`table.connectionShards`) without a whole number of shards.
 */
export function checkTable(t: Topology): void {
  const fail = (why: string) => {
    throw new Error(`topology.json: table: ${why}`);
  };
  const feed = t.table?.publicFeed as unknown as Record<string, unknown> | undefined;
  if (feed === undefined || feed === null || typeof feed !== 'object' || Array.isArray(feed)) {
    fail('needs publicFeed = { indexName, partitionKey, sortKey, shards }');
    return;
  }
  for (const key of Object.keys(feed)) if (!PUBLIC_FEED_KEYS.has(key)) fail(`publicFeed: unknown key '${key}'`);
  for (const key of ['indexName', 'partitionKey', 'sortKey']) {
    const v = feed[key];
    if (typeof v !== 'string' || v.trim() === '') fail(`publicFeed.${key} must be a non-empty string, got ${JSON.stringify(v)}`);
  }
  if (feed.partitionKey === feed.sortKey) fail(`publicFeed's partition and sort keys must differ, both are '${feed.sortKey}'`);
  for (const key of ['partitionKey', 'sortKey'] as const) {
    if (feed[key] === t.table.partitionKey || feed[key] === t.table.sortKey) {
      fail(`publicFeed.${key} '${feed[key]}' is a key of the table: the index would not be sparse`);
    }
  }
  if (typeof feed.shards !== 'number' || !Number.isInteger(feed.shards) || feed.shards < 1) {
    fail(`publicFeed.shards must be an integer >= 1, got ${JSON.stringify(feed.shards)}`);
  }
  const shards = t.table.connectionShards as unknown;
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1) {
    fail(`connectionShards must be an integer >= 1, got ${JSON.stringify(shards)}`);
  }
  const stream = t.table.stream as unknown;
  if (stream !== undefined && !(STREAM_VIEW_TYPES as ReadonlyArray<unknown>).includes(stream)) {
    fail(`stream must be one of ${STREAM_VIEW_TYPES.join(', ')}, got ${JSON.stringify(stream)}`);
  }
}

/** The dead-letter queue (a key of `queues`) a work queue redrives to: `<key>Dlq`. */
export function deadLetterQueueOf(queueKey: string): string {
  return `${queueKey}Dlq`;
}

/** Whether `key` names a work queue of `queues` (one with a redrive: `maxReceiveCount`), not a dead-letter queue. */
export function isWorkQueue(t: Topology, key: unknown): key is string {
  if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(t.queues ?? {}, key)) return false;
  return (t.queues as unknown as Record<string, Partial<WorkQueue>>)[key].maxReceiveCount !== undefined;
}

/** The work queues of `queues`, in file order: the queues functions consume and send to. */
export function workQueues(t: Topology): Array<[string, WorkQueue]> {
  return Object.entries(t.queues as unknown as Record<string, WorkQueue>).filter(([key]) => isWorkQueue(t, key));
}

const WORK_QUEUE_KEYS = ['visibilityTimeoutSeconds', 'receiveWaitTimeSeconds', 'retentionSeconds', 'maxReceiveCount'];

/**
 * Refuses queues the app could not create as written: a work queue (a queue with `maxReceiveCount`)
 * without all its settings as whole numbers, or without its dead-letter queue `<key>Dlq`.
 */
export function checkQueues(t: Topology): void {
  for (const [key, q] of workQueues(t)) {
    const fail = (why: string) => {
      throw new Error(`topology.json: queue '${key}': ${why}`);
    };
    for (const setting of WORK_QUEUE_KEYS) {
      const v = (q as unknown as Record<string, unknown>)[setting];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`${setting} must be an integer >= 0, got ${JSON.stringify(v)}`);
    }
    const dlq = deadLetterQueueOf(key);
    if (!Object.prototype.hasOwnProperty.call(t.queues, dlq) || isWorkQueue(t, dlq)) {
      fail(`needs its dead-letter queue '${dlq}' = { retentionSeconds } in queues`);
    }
  }
}

const TRIGGER_KINDS = ['http', 'webSocket', 'queue', 'rule', 'stream'] as const;
const DECLARATION_KEYS = new Set([
  'trigger', 'timeoutSeconds', 'memoryMb', 'environment', 'tableActions', 'putEvents', 'readSecret', 'manageConnections',
  'hashesPasswords', 'queriesIndex', 'sendsTo',
]);
const EVENT_SOURCE_MAPPING_KEYS = ['batchSize', 'maximumBatchingWindowSeconds', 'reportBatchItemFailures', 'maximumConcurrency'];
const STREAM_MAPPING_KEYS = [
  'startingPosition', 'batchSize', 'maximumBatchingWindowSeconds', 'pollsPerSecond', 'reportBatchItemFailures',
  'bisectBatchOnFunctionError', 'maximumRetryAttempts', 'maximumRecordAgeSeconds', 'filterPattern', 'onFailure',
];
/** Lambda's limit on a filter criteria pattern, in characters. */
const FILTER_PATTERN_MAX_LENGTH = 4096;

/** The stream mappings of `streams`, in file order. */
export function streamMappings(t: Topology): Array<[string, StreamMapping]> {
  return Object.entries((t.streams ?? {}) as Record<string, StreamMapping>);
}

/**
 * Refuses a declaration the app could not deploy as written: an unknown key or variable, not exactly
 * one trigger, a queue or rule that does not exist, a queue trigger without its event source mapping,
 * a route declared twice, a permission without the variable that goes with it (and the other way
 * round), a `sendsTo` that names no work queue (or the queue that triggers the function), or a
 * `queriesIndex` that names no index of the table (or asks for more than a Query on it). Refuses as
 * well an event source mapping (`eventSourceMappings`) of no queue, of a queue no function (or more
 * than one) is triggered by, or with settings Lambda would not take; and a stream mapping (`streams`)
 * that feeds no function (or more than one), reads a table without a stream (`table.stream`), takes
 * settings Lambda would not, or sends what it gives up on to a queue that is not its own (a work
 * queue, a work queue's DLQ, a rule's DLQ, another mapping's queue, or no queue of `queues`).
 */
export function checkFunctionDeclarations(t: Topology): void {
  const mappings = (t.eventSourceMappings ?? {}) as Record<string, EventSourceMapping>;
  if (typeof mappings !== 'object' || Array.isArray(mappings)) {
    throw new Error('topology.json: eventSourceMappings must be an object keyed by queue');
  }
  const routes = new Set<string>();
  for (const [name, f] of Object.entries(t.functions)) {
    const fail = (why: string) => {
      throw new Error(`topology.json: function '${name}': ${why}`);
    };
    for (const key of Object.keys(f)) if (!DECLARATION_KEYS.has(key)) fail(`unknown key '${key}'`);
    const kinds = Object.keys(f.trigger ?? {});
    if (kinds.length !== 1 || !(TRIGGER_KINDS as ReadonlyArray<string>).includes(kinds[0])) {
      fail(`needs exactly one trigger of ${TRIGGER_KINDS.join(', ')}, got ${JSON.stringify(f.trigger)}`);
    }
    const route = routeKeyOf(f.trigger);
    if (route) {
      if (routes.has(route)) fail(`route ${route} is declared twice`);
      routes.add(route);
    }
    if (f.trigger.queue !== undefined) {
      if (!Object.prototype.hasOwnProperty.call(t.queues, f.trigger.queue)) fail(`no queue '${f.trigger.queue}'`);
      if (!Object.prototype.hasOwnProperty.call(mappings, f.trigger.queue)) {
        fail(`queue '${f.trigger.queue}' has no event source mapping in eventSourceMappings`);
      }
    }
    if (f.sendsTo !== undefined) {
      if (!isWorkQueue(t, f.sendsTo)) fail(`sendsTo ${JSON.stringify(f.sendsTo)} is not a work queue of queues`);
      if (f.sendsTo === f.trigger.queue) fail(`sendsTo '${f.sendsTo}' is the queue that triggers it: every message would come back`);
    }
    if (f.trigger.rule !== undefined && !(f.trigger.rule in t.rules)) fail(`no rule '${f.trigger.rule}'`);
    if (f.trigger.stream !== undefined) {
      if (!Object.prototype.hasOwnProperty.call(t.streams ?? {}, f.trigger.stream)) fail(`no stream mapping '${f.trigger.stream}' in streams`);
      if (t.table?.stream === undefined) fail(`stream '${f.trigger.stream}': the table has no stream (table.stream)`);
    }
    for (const v of f.environment) if (!(ENV_KEYS as ReadonlyArray<string>).includes(v)) fail(`unknown variable '${v}'`);
    const pairs: Array<[boolean, EnvKey]> = [
      [!!f.readSecret, 'JWT_SECRET_ARN'],
      [!!f.putEvents, 'EVENT_BUS_NAME'],
      [!!f.manageConnections, 'WEBSOCKET_MANAGEMENT_ENDPOINT'],
      [f.tableActions.length > 0, 'TABLE_NAME'],
      [f.sendsTo !== undefined, 'BROADCAST_QUEUE_URL'],
    ];
    for (const [permitted, variable] of pairs) {
      if (permitted !== f.environment.includes(variable)) fail(`${variable} and the permission that goes with it come together`);
    }
    for (const a of f.tableActions) if (!/^dynamodb:[A-Z][A-Za-z]+$/.test(a) || a === 'dynamodb:Scan') fail(`table action '${a}'`);
    if (f.queriesIndex !== undefined) {
      const index = t.table?.publicFeed?.indexName;
      if (f.queriesIndex !== index) {
        fail(`queriesIndex '${f.queriesIndex}' is not an index of the table (its only index is table.publicFeed.indexName '${index}')`);
      }
      // An index can only be read: its actions are granted on the index, and nothing on the table.
      for (const a of f.tableActions) if (a !== 'dynamodb:Query') fail(`queriesIndex: '${a}' cannot be granted on an index, only dynamodb:Query`);
      if (f.tableActions.length === 0) fail(`queriesIndex '${f.queriesIndex}' needs dynamodb:Query in tableActions`);
    }
  }
  for (const [queue, m] of Object.entries(mappings)) {
    const fail = (why: string) => {
      throw new Error(`topology.json: eventSourceMappings '${queue}': ${why}`);
    };
    if (!isWorkQueue(t, queue)) fail('is not a work queue of queues');
    const consumers = Object.entries(t.functions).filter(([, f]) => f.trigger.queue === queue);
    if (consumers.length !== 1) {
      fail(`must hand its batches to one function (trigger { "queue": "${queue}" }), ${consumers.length} are triggered by it`);
    }
    const settings = (m ?? {}) as unknown as Record<string, unknown>;
    for (const key of Object.keys(settings)) if (!EVENT_SOURCE_MAPPING_KEYS.includes(key)) fail(`unknown key '${key}'`);
    const integer = (key: string, min: number, max: number) => {
      const v = settings[key];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        fail(`${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
      }
    };
    integer('batchSize', 1, 10000);
    integer('maximumBatchingWindowSeconds', 0, 300);
    // Lambda's bounds of an SQS event source's maximum concurrency.
    integer('maximumConcurrency', 2, 1000);
    if (typeof settings.reportBatchItemFailures !== 'boolean') {
      fail(`reportBatchItemFailures must be true or false, got ${JSON.stringify(settings.reportBatchItemFailures)}`);
    }
  }
  checkStreamMappings(t);
}

/** The stream mappings' checks (see checkFunctionDeclarations). */
function checkStreamMappings(t: Topology): void {
  const streams = (t.streams ?? {}) as Record<string, StreamMapping>;
  if (typeof streams !== 'object' || streams === null || Array.isArray(streams)) {
    throw new Error('topology.json: streams must be an object keyed by mapping');
  }
  // The queues with a meaning of their own: not an on-failure destination.
  const taken = new Map<string, string>();
  for (const [key] of workQueues(t)) {
    taken.set(key, 'a work queue');
    taken.set(deadLetterQueueOf(key), `the dead-letter queue of '${key}'`);
  }
  for (const [ruleKey, rule] of Object.entries(t.rules ?? {})) taken.set(rule.deadLetterQueue, `the dead-letter queue of the rule '${ruleKey}'`);
  for (const [key, m] of Object.entries(streams)) {
    const fail = (why: string) => {
      throw new Error(`topology.json: streams '${key}': ${why}`);
    };
    const consumers = Object.entries(t.functions).filter(([, f]) => f.trigger.stream === key);
    if (consumers.length !== 1) {
      fail(`must hand its batches to one function (trigger { "stream": "${key}" }), ${consumers.length} are triggered by it`);
    }
    if (t.table?.stream === undefined) fail('the table has no stream (table.stream)');
    const settings = (m ?? {}) as unknown as Record<string, unknown>;
    for (const k of Object.keys(settings)) if (!STREAM_MAPPING_KEYS.includes(k)) fail(`unknown key '${k}'`);
    const integer = (k: string, min: number, max: number) => {
      const v = settings[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        fail(`${k} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
      }
    };
    const boolean = (k: string) => {
      if (typeof settings[k] !== 'boolean') fail(`${k} must be true or false, got ${JSON.stringify(settings[k])}`);
    };
    if (!(STREAM_STARTING_POSITIONS as ReadonlyArray<unknown>).includes(settings.startingPosition)) {
      fail(`startingPosition must be one of ${STREAM_STARTING_POSITIONS.join(', ')}, got ${JSON.stringify(settings.startingPosition)}`);
    }
    // Lambda's bounds for a DynamoDB stream event source (no "infinite" -1: the Rust side reads them unsigned).
    integer('batchSize', 1, 10000);
    integer('maximumBatchingWindowSeconds', 0, 300);
    integer('pollsPerSecond', 1, 100);
    integer('maximumRetryAttempts', 0, 10000);
    integer('maximumRecordAgeSeconds', 60, 604800);
    boolean('reportBatchItemFailures');
    boolean('bisectBatchOnFunctionError');
    const pattern = settings.filterPattern;
    if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern) || Object.keys(pattern).length === 0) {
      fail(`filterPattern must be a non-empty object (a Lambda filter criteria pattern), got ${JSON.stringify(pattern)}`);
    }
    if (JSON.stringify(pattern).length > FILTER_PATTERN_MAX_LENGTH) fail(`filterPattern is longer than Lambda's ${FILTER_PATTERN_MAX_LENGTH} characters`);
    const onFailure = settings.onFailure;
    if (typeof onFailure !== 'string' || !Object.prototype.hasOwnProperty.call(t.queues ?? {}, onFailure)) {
      fail(`onFailure ${JSON.stringify(onFailure)} is not a queue of queues`);
      return;
    }
    if (taken.has(onFailure)) fail(`onFailure '${onFailure}' is ${taken.get(onFailure)}: a mapping's on-failure queue is its own`);
    taken.set(onFailure, `the on-failure queue of the stream mapping '${key}'`);
  }
}

/** API Gateway's route key of a trigger (`GET /notes/{noteId}`, `$connect`), if it is a route. */
export function routeKeyOf(trigger: Trigger): string | undefined {
  if (trigger.http) return `${trigger.http.method} ${trigger.http.path}`;
  return trigger.webSocket;
}

/** The HTTP API's routes, in declaration order: method, path and function. */
export function httpRoutes(t: Topology): Array<{ method: string; path: string; fn: string }> {
  return Object.entries(t.functions)
    .filter(([, f]) => f.trigger.http)
    .map(([fn, f]) => ({ method: f.trigger.http!.method, path: f.trigger.http!.path, fn }));
}

/** The WebSocket API's routes: route key and function. */
export function webSocketRoutes(t: Topology): Array<{ routeKey: string; fn: string }> {
  return Object.entries(t.functions)
    .filter(([, f]) => f.trigger.webSocket)
    .map(([fn, f]) => ({ routeKey: f.trigger.webSocket!, fn }));
}

/** The one function a queue, rule or stream mapping invokes. */
export function functionTriggeredBy(t: Topology, trigger: { queue: string } | { rule: string } | { stream: string }): string {
  const found = Object.entries(t.functions)
    .filter(([, f]) =>
      'queue' in trigger ? f.trigger.queue === trigger.queue : 'rule' in trigger ? f.trigger.rule === trigger.rule : f.trigger.stream === trigger.stream,
    )
    .map(([name]) => name);
  if (found.length !== 1) throw new Error(`topology.json: ${JSON.stringify(trigger)} must invoke one function, got ${found.length}`);
  return found[0];
}

/**
 * Converts an event pattern as written in topology.json (EventBridge's JSON field names,
 * e.g. `detail-type`) into the shape aws-events' EventPattern takes (`detailType`).
 */
export function toCdkEventPattern(pattern: Record<string, string[]>): {
  source?: string[];
  detailType?: string[];
} {
  const known = new Set(['source', 'detail-type']);
  for (const key of Object.keys(pattern)) {
    if (!known.has(key)) {
      throw new Error(`topology.json: event pattern field '${key}' is not supported by the CDK app`);
    }
  }
  return {
    ...(pattern.source ? { source: [...pattern.source] } : {}),
    ...(pattern['detail-type'] ? { detailType: [...pattern['detail-type']] } : {}),
  };
}

/** The Lambda functions of the suite, as topology.json declares them: crate folder = package = binary = name. */
export const FUNCTION_NAMES: ReadonlyArray<string> = Object.keys(loadTopology().functions);
export type FunctionName = string;

