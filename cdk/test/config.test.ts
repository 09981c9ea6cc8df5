import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  CONTEXT_KEYS,
  checkFunctionDeclarations,
  checkQueues,
  checkTable,
  REPO_DIR,
  crateManifest,
  hostArchitecture,
  parseAllowedOrigins,
  parseArchitecture,
  parseStage,
  readSettings,
  workspaceManifest,
} from '../lib/config';
import {
  DEAD_LETTER_QUEUES,
  FUNCTIONS,
  RULES,
  STREAM_TRIGGERED,
  WORK_QUEUES,
  aFunctionWhere,
  consumerOf,
  declaration,
  declared,
  functionsWhere,
  readDeclaration,
} from './declaration';
import { missingCrates } from './synthesize';

const settingsOf = (context: Record<string, unknown>) => readSettings(new App({ context }).node);

describe('context', () => {
  test('allowedOrigins: comma list or JSON array, trailing slash dropped', () => {
    expect(parseAllowedOrigins('https://a.example, http://localhost:5173/')).toEqual([
      'https://a.example',
      'http://localhost:5173',
    ]);
    expect(parseAllowedOrigins('["https://a.example"]')).toEqual(['https://a.example']);
    expect(parseAllowedOrigins(['https://b.example'])).toEqual(['https://b.example']);
    expect(parseAllowedOrigins(undefined)).toEqual([]);
    expect(parseAllowedOrigins('')).toEqual([]);
  });

  test.each(['*', 'https://*.example.com', 'example.com', 'ftp://x.example', 'https://a.example/path'])(
    'allowedOrigins refuses %s',
    (bad) => {
      expect(() => parseAllowedOrigins(bad)).toThrow();
    },
  );

  test('arch: arm64 (Graviton) by default, x86_64 on request, anything else refused', () => {
    expect(parseArchitecture(undefined)).toBe(lambda.Architecture.ARM_64);
    expect(settingsOf({}).architecture).toBe(lambda.Architecture.ARM_64);
    expect(settingsOf({ arch: 'x86_64' }).architecture).toBe(lambda.Architecture.X86_64);
    expect(parseArchitecture('arm64')).toBe(lambda.Architecture.ARM_64);
    expect(() => parseArchitecture('mips')).toThrow(/arch/);
  });

  test("the SAM CLI's synthesis builds for this machine (no emulated containers) unless told otherwise", () => {
    expect(settingsOf({ sam: 'true' }).architecture).toBe(hostArchitecture());
    expect(settingsOf({ sam: 'true', arch: 'x86_64' }).architecture).toBe(lambda.Architecture.X86_64);
  });

  test('stage: dev by default, local for the SAM CLI, lower-case names only', () => {
    expect(settingsOf({}).stage).toBe('dev');
    expect(settingsOf({ sam: 'true' }).stage).toBe('local');
    expect(settingsOf({ stage: 'prod' }).stage).toBe('prod');
    for (const bad of ['Prod', 'prod_1', '1prod', 'a-very-long-stage-name', 'prod-', 'pr od']) {
      expect(() => parseStage(bad, 'dev')).toThrow(/stage/);
    }
  });

  test('defaults: the workspace is the repository root, frontend in ../frontend/build (relative to cdk/)', () => {
    const settings = settingsOf({});
    expect(settings.workspaceDir).toBe(REPO_DIR);
    expect(settings.frontendBuildDir).toBe(path.join(REPO_DIR, 'frontend', 'build'));
    expect(workspaceManifest(settings.workspaceDir)).toBe(path.join(REPO_DIR, 'Cargo.toml'));
    expect(settings.jwtTtlSeconds).toBe(86400);
    expect(settings.logRetentionDays).toBe(30);
    expect(settings.logLevel).toBe('INFO');
    expect(settings.authThrottle).toEqual({ rateLimit: 5, burstLimit: 10 });
    expect(settings.alarmEmail).toBeUndefined();
    expect(settings.domain).toBeUndefined();
  });

  test('an unknown context key is refused (a typo must not pass unnoticed)', () => {
    expect(() => settingsOf({ stgae: 'prod' })).toThrow(/unknown context key\(s\): stgae/);
    expect(() => settingsOf({ functionsDir: '../functions' })).toThrow(/functionsDir/);
    // The CLI's own keys pass.
    expect(settingsOf({ 'acknowledged-issue-numbers': [32775], '@aws-cdk/core:newStyleStackSynthesis': true }).stage).toBe('dev');
  });

  test('logLevel, alarmEmail and the custom domain are checked', () => {
    expect(settingsOf({ logLevel: 'debug' }).logLevel).toBe('DEBUG');
    expect(() => settingsOf({ logLevel: 'chatty' })).toThrow(/logLevel/);
    // Above INFO, Lambda would drop the metric lines (EMF, no level: INFO) and the alarms on them.
    expect(() => settingsOf({ logLevel: 'WARN' })).toThrow(/logLevel/);
    expect(settingsOf({ alarmEmail: 'ops@example.com' }).alarmEmail).toBe('ops@example.com');
    expect(() => settingsOf({ alarmEmail: 'not-an-address' })).toThrow(/alarmEmail/);
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-1111-2222-333344445555';
    expect(settingsOf({ domainName: 'notes.example.com', certificateArn: arn }).domain).toEqual({
      domainName: 'notes.example.com',
      certificateArn: arn,
    });
    expect(() => settingsOf({ domainName: 'notes.example.com' })).toThrow(/certificateArn/);
    expect(() =>
      settingsOf({ domainName: 'notes.example.com', certificateArn: arn.replace('us-east-1', 'eu-west-1') }),
    ).toThrow(/us-east-1/);
    expect(() => settingsOf({ certificateArn: arn })).toThrow(/domainName/);
    expect(() => settingsOf({ domainName: 'notes.example.com', certificateArn: arn, hostedZoneId: 'Z1' })).toThrow(
      /go together/,
    );
  });

  test('tracing: off unless -c tracing=true, anything but true or false refused', () => {
    expect(settingsOf({}).tracing).toBe(false);
    expect(settingsOf({ tracing: 'true' }).tracing).toBe(true);
    expect(settingsOf({ tracing: 'false' }).tracing).toBe(false);
    expect(() => settingsOf({ tracing: 'yes' })).toThrow(/context 'tracing' must be true or false/);
  });

  test('cdk.json only sets keys the app reads, and leaves stage and arch to the code', () => {
    const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '../cdk.json'), 'utf-8'));
    for (const key of Object.keys(cdkJson.context)) expect(CONTEXT_KEYS).toContain(key);
    // A stage or arch in cdk.json would also apply to `-c sam=true`, whose defaults differ.
    expect(cdkJson.context.stage).toBeUndefined();
    expect(cdkJson.context.arch).toBeUndefined();
  });
});

describe('function declarations (topology.json)', () => {
  const base = () => readDeclaration();
  const refused = (edit: (t: any) => void, why: RegExp) => {
    const t = base();
    edit(t);
    expect(() => checkFunctionDeclarations(t)).toThrow(why);
  };
  // The checks are tried on the committed declarations, each on a function that has what it needs.
  const [httpFn, otherHttpFn] = functionsWhere((f) => !!f.trigger.http);
  const queueConsumer = aFunctionWhere((f) => !!f.trigger.queue, 'a queue triggers');
  const ruleInvoked = aFunctionWhere((f) => !!f.trigger.rule, 'a rule invokes');
  const secretReader = aFunctionWhere((f) => !!f.readSecret, 'reads the secret');
  const publisher = aFunctionWhere((f) => !!f.putEvents, 'puts events');
  const pusher = aFunctionWhere((f) => !!f.manageConnections, 'manages connections');
  const tableUser = aFunctionWhere((f) => f.tableActions.length > 0, 'uses the table');
  const sender = aFunctionWhere((f) => f.sendsTo !== undefined, 'sends to a queue');
  const nonSender = aFunctionWhere((f) => f.sendsTo === undefined, 'sends to no queue');
  const indexReader = aFunctionWhere((f) => f.queriesIndex !== undefined, 'queries an index');
  const [mappedQueue] = Object.keys(declaration.eventSourceMappings);
  const [firstQueueConsumer] = functionsWhere((f) => !!f.trigger.queue);
  const workQueue = WORK_QUEUES[0][0];
  const indexName = declaration.table.publicFeed.indexName;

  test('the committed file passes', () => {
    expect(() => checkFunctionDeclarations(base())).not.toThrow();
  });

  test('a declaration the app could not deploy as written is refused', () => {
    refused((t) => t.functions[tableUser].environment.push('TABEL_NAME'), /unknown variable 'TABEL_NAME'/);
    refused((t) => (t.functions[httpFn].trigger = { http: { method: 'POST', path: '/x' }, queue: workQueue }), /exactly one trigger/);
    refused((t) => (t.functions[queueConsumer].trigger = { queue: 'nope' }), /no queue 'nope'/);
    refused((t) => (t.functions[ruleInvoked].trigger = { rule: 'nope' }), /no rule 'nope'/);
    refused((t) => (t.functions[otherHttpFn].trigger = { http: { ...t.functions[httpFn].trigger.http } }), /declared twice/);
    refused((t) => (t.functions[secretReader].readSecret = false), /JWT_SECRET_ARN/);
    refused((t) => (t.functions[publisher].putEvents = false), /EVENT_BUS_NAME/);
    refused((t) => (t.functions[pusher].manageConnections = false), /WEBSOCKET_MANAGEMENT_ENDPOINT/);
    refused((t) => (t.functions[tableUser].tableActions = ['dynamodb:Scan']), /dynamodb:Scan/);
    refused((t) => (t.functions[httpFn].color = 'blue'), /unknown key 'color'/);
  });

  test('sendsTo must name a work queue, and comes with BROADCAST_QUEUE_URL (the queue URL) and only with it', () => {
    const fn = `function '${sender}'`;
    refused((t) => (t.functions[sender].sendsTo = 'nope'), new RegExp(`${fn}: sendsTo "nope" is not a work queue of queues`));
    // A dead-letter queue is not a work queue: nothing may send to it but its redrive (or a rule's retry).
    for (const dlq of DEAD_LETTER_QUEUES) {
      refused((t) => (t.functions[sender].sendsTo = dlq), new RegExp(`${fn}: sendsTo "${dlq}" is not a work queue`));
    }
    refused((t) => (t.functions[sender].sendsTo = [workQueue]), new RegExp(`sendsTo \\["${workQueue}"\\] is not a work queue`));
    refused((t) => (t.functions[sender].sendsTo = true), /sendsTo true is not a work queue/);
    refused((t) => delete t.functions[sender].sendsTo, new RegExp(`${fn}: BROADCAST_QUEUE_URL and the permission that goes with it`));
    refused(
      (t) => (t.functions[sender].environment = t.functions[sender].environment.filter((v: string) => v !== 'BROADCAST_QUEUE_URL')),
      new RegExp(`${fn}: BROADCAST_QUEUE_URL and the permission that goes with it`),
    );
    refused((t) => t.functions[nonSender].environment.push('BROADCAST_QUEUE_URL'), new RegExp(`function '${nonSender}': BROADCAST_QUEUE_URL`));
    // A function sending to the queue that triggers it would feed itself forever.
    const ownQueue = declared(queueConsumer).trigger.queue!;
    refused((t) => {
      t.functions[queueConsumer].sendsTo = ownQueue;
      if (!t.functions[queueConsumer].environment.includes('BROADCAST_QUEUE_URL')) t.functions[queueConsumer].environment.push('BROADCAST_QUEUE_URL');
    }, new RegExp(`function '${queueConsumer}': sendsTo '${ownQueue}' is the queue that triggers it`));
    // Any other work queue is accepted.
    for (const [other] of WORK_QUEUES.filter(([key]) => key !== declared(sender).trigger.queue)) {
      const t = base();
      t.functions[sender].sendsTo = other;
      expect(() => checkFunctionDeclarations(t)).not.toThrow();
    }
  });

  test('every queue trigger has its event source mapping, and every mapping feeds one function', () => {
    const consumer = consumerOf(mappedQueue);
    const otherRule = Object.keys(declaration.rules)[0];
    refused(
      (t) => delete t.eventSourceMappings[mappedQueue],
      new RegExp(`function '${consumer}': queue '${mappedQueue}' has no event source mapping in eventSourceMappings`),
    );
    refused(
      (t) => delete t.eventSourceMappings,
      new RegExp(`function '${firstQueueConsumer}': queue '${declared(firstQueueConsumer).trigger.queue}' has no event source mapping`),
    );
    refused(
      (t) => (t.functions[consumer].trigger = { rule: otherRule }),
      new RegExp(`eventSourceMappings '${mappedQueue}': must hand its batches to one function .* 0 are`),
    );
    refused(
      (t) => (t.functions[`${consumer}-again`] = { ...t.functions[consumer] }),
      new RegExp(`eventSourceMappings '${mappedQueue}': must hand its batches to one function .* 2 are`),
    );
    refused((t) => (t.eventSourceMappings.nope = { ...t.eventSourceMappings[mappedQueue] }), /eventSourceMappings 'nope': is not a work queue/);
    for (const dlq of DEAD_LETTER_QUEUES) {
      refused(
        (t) => (t.eventSourceMappings[dlq] = { ...t.eventSourceMappings[mappedQueue] }),
        new RegExp(`eventSourceMappings '${dlq}': is not a work queue`),
      );
    }
  });

  test("an event source mapping Lambda would not take is refused", () => {
    const q = mappedQueue;
    refused((t) => (t.eventSourceMappings[q].maximumConcurrency = 1), new RegExp(`'${q}': maximumConcurrency must be an integer from 2 to 1000, got 1`));
    refused((t) => (t.eventSourceMappings[q].batchSize = 0), new RegExp(`'${q}': batchSize must be an integer from 1 to 10000, got 0`));
    refused((t) => (t.eventSourceMappings[q].maximumBatchingWindowSeconds = 301), /maximumBatchingWindowSeconds must be an integer from 0 to 300/);
    refused((t) => (t.eventSourceMappings[q].reportBatchItemFailures = 'yes'), /reportBatchItemFailures must be true or false/);
    refused((t) => (t.eventSourceMappings[q].batchWindow = 1), new RegExp(`eventSourceMappings '${q}': unknown key 'batchWindow'`));
  });

  test.each(WORK_QUEUES.map(([key]) => key))('work queue %s needs its settings and its dead-letter queue <queue>Dlq', (q) => {
    const refusedQueues = (edit: (t: any) => void, why: RegExp) => {
      const t = base();
      edit(t);
      expect(() => checkQueues(t)).toThrow(why);
    };
    expect(() => checkQueues(base())).not.toThrow();
    refusedQueues((t) => delete t.queues[`${q}Dlq`], new RegExp(`queue '${q}': needs its dead-letter queue '${q}Dlq'`));
    refusedQueues((t) => delete t.queues[q].visibilityTimeoutSeconds, new RegExp(`queue '${q}': visibilityTimeoutSeconds must be an integer >= 0, got undefined`));
    refusedQueues((t) => (t.queues[q].retentionSeconds = '3600'), new RegExp(`queue '${q}': retentionSeconds must be an integer`));
  });

  describe('stream mappings (streams) and stream triggers', () => {
    const [[streamFn, streamKey, onFailure]] = STREAM_TRIGGERED;
    const otherFn = aFunctionWhere((f) => !f.trigger.stream && !f.trigger.queue && !f.trigger.rule, 'is triggered by a route');
    const m = `streams '${streamKey}'`;

    test('the committed file has a stream trigger, and passes', () => {
      expect(declared(streamFn).trigger).toEqual({ stream: streamKey });
      expect(() => checkFunctionDeclarations(base())).not.toThrow();
    });

    test('a stream trigger needs its mapping and the table stream; a mapping feeds one function', () => {
      refused((t) => (t.functions[streamFn].trigger = { stream: 'nope' }), new RegExp(`function '${streamFn}': no stream mapping 'nope' in streams`));
      refused((t) => delete t.streams, new RegExp(`function '${streamFn}': no stream mapping '${streamKey}'`));
      refused((t) => delete t.table.stream, new RegExp(`function '${streamFn}': stream '${streamKey}': the table has no stream \\(table.stream\\)`));
      refused((t) => (t.functions[streamFn].trigger = { stream: streamKey, queue: WORK_QUEUES[0][0] }), /exactly one trigger/);
      refused((t) => (t.functions[otherFn].trigger = { stream: streamKey }), new RegExp(`${m}: must hand its batches to one function .* 2 are`));
      refused((t) => (t.streams.spare = { ...t.streams[streamKey], onFailure: 'noteChangesFailed2' }), /streams 'spare': must hand its batches to one function .* 0 are/);
    });

    test('settings Lambda would not take are refused', () => {
      refused((t) => (t.streams[streamKey].startingPosition = 'AT_TIMESTAMP'), new RegExp(`${m}: startingPosition must be one of TRIM_HORIZON, LATEST`));
      refused((t) => (t.streams[streamKey].batchSize = 10001), new RegExp(`${m}: batchSize must be an integer from 1 to 10000, got 10001`));
      refused((t) => (t.streams[streamKey].maximumBatchingWindowSeconds = 301), /maximumBatchingWindowSeconds must be an integer from 0 to 300/);
      refused((t) => (t.streams[streamKey].maximumRetryAttempts = -1), /maximumRetryAttempts must be an integer from 0 to 10000, got -1/);
      refused((t) => (t.streams[streamKey].maximumRecordAgeSeconds = 59), /maximumRecordAgeSeconds must be an integer from 60 to 604800, got 59/);
      refused((t) => (t.streams[streamKey].pollsPerSecond = 0), /pollsPerSecond must be an integer from 1 to 100/);
      refused((t) => (t.streams[streamKey].bisectBatchOnFunctionError = 'yes'), /bisectBatchOnFunctionError must be true or false/);
      refused((t) => (t.streams[streamKey].reportBatchItemFailures = 1), /reportBatchItemFailures must be true or false/);
      refused((t) => (t.streams[streamKey].filterPattern = '{"dynamodb":{}}'), /filterPattern must be a non-empty object/);
      refused((t) => (t.streams[streamKey].filterPattern = {}), /filterPattern must be a non-empty object/);
      refused((t) => (t.streams[streamKey].filterPattern = { eventName: ['x'.repeat(5000)] }), /filterPattern is longer than Lambda's 4096 characters/);
      refused((t) => (t.streams[streamKey].parallelizationFactor = 2), new RegExp(`${m}: unknown key 'parallelizationFactor'`));
    });

    test('the on-failure queue is a queue of its own: not a work queue, a DLQ of one, or a rule DLQ', () => {
      refused((t) => (t.streams[streamKey].onFailure = 'nope'), new RegExp(`${m}: onFailure "nope" is not a queue of queues`));
      for (const [q] of WORK_QUEUES) {
        refused((t) => (t.streams[streamKey].onFailure = q), new RegExp(`${m}: onFailure '${q}' is a work queue`));
        refused((t) => (t.streams[streamKey].onFailure = `${q}Dlq`), new RegExp(`${m}: onFailure '${q}Dlq' is the dead-letter queue of '${q}'`));
      }
      for (const rule of RULES) {
        const dlq = declaration.rules[rule].deadLetterQueue;
        refused((t) => (t.streams[streamKey].onFailure = dlq), new RegExp(`${m}: onFailure '${dlq}' is the dead-letter queue of the rule '${rule}'`));
      }
      expect(DEAD_LETTER_QUEUES).toContain(onFailure);
    });

    test('the table stream must be a view type DynamoDB has', () => {
      const t = base();
      t.table.stream = 'NEW_AND_OLD';
      expect(() => checkTable(t)).toThrow(/table: stream must be one of KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, got "NEW_AND_OLD"/);
      const without = base();
      delete without.table.stream;
      expect(() => checkTable(without)).not.toThrow();
    });
  });

  test('a queriesIndex naming an index the table does not have is refused', () => {
    refused(
      (t) => (t.functions[indexReader].queriesIndex = `${indexName}s`),
      new RegExp(`function '${indexReader}': queriesIndex '${indexName}s' is not an index of the table .*'${indexName}'`),
    );
  });

  test('an index can only be queried: queriesIndex with another table action is refused', () => {
    refused(
      (t) => (t.functions[indexReader].tableActions = ['dynamodb:Query', 'dynamodb:GetItem']),
      new RegExp(`function '${indexReader}': queriesIndex: 'dynamodb:GetItem' cannot be granted on an index`),
    );
  });

  test('the public feed index needs a name, two keys of its own and a whole number of shards >= 1', () => {
    const refusedTable = (edit: (t: any) => void, why: RegExp) => {
      const t = base();
      edit(t);
      expect(() => checkTable(t)).toThrow(why);
    };
    expect(() => checkTable(base())).not.toThrow();
    refusedTable((t) => delete t.table.publicFeed, /table: needs publicFeed/);
    refusedTable((t) => (t.table.publicFeed.indexName = ''), /publicFeed.indexName must be a non-empty string/);
    refusedTable((t) => delete t.table.publicFeed.sortKey, /publicFeed.sortKey must be a non-empty string/);
    refusedTable((t) => (t.table.publicFeed.partitionKey = 'pk'), /publicFeed.partitionKey 'pk' is a key of the table/);
    refusedTable((t) => (t.table.publicFeed.shards = 0), /publicFeed.shards must be an integer >= 1, got 0/);
    refusedTable((t) => (t.table.publicFeed.shards = 2.5), /publicFeed.shards must be an integer >= 1, got 2.5/);
    refusedTable((t) => (t.table.publicFeed.shards = '4'), /publicFeed.shards must be an integer >= 1, got "4"/);
    refusedTable((t) => (t.table.publicFeed.projection = 'KEYS_ONLY'), /publicFeed: unknown key 'projection'/);
  });

  test('the broadcast connection list needs a whole number of shards >= 1', () => {
    const refusedTable = (edit: (t: any) => void, why: RegExp) => {
      const t = base();
      edit(t);
      expect(() => checkTable(t)).toThrow(why);
    };
    refusedTable((t) => delete t.table.connectionShards, /connectionShards must be an integer >= 1, got undefined/);
    refusedTable((t) => (t.table.connectionShards = 0), /connectionShards must be an integer >= 1, got 0/);
    refusedTable((t) => (t.table.connectionShards = 1.5), /connectionShards must be an integer >= 1, got 1.5/);
  });
});

describe('crates', () => {
  test('every function has its crate in the workspace', () => {
    expect(missingCrates()).toEqual([]);
  });

  test('the root manifest is a workspace whose members include functions/*', () => {
    const toml = fs.readFileSync(workspaceManifest(REPO_DIR), 'utf-8');
    const members = /\[workspace\][^[]*?members\s*=\s*\[([^\]]*)\]/s.exec(toml)?.[1] ?? '';
    expect(members).toMatch(/"functions\/\*"/);
  });

  test.each(FUNCTIONS)(
    'functions/%s/Cargo.toml is a package of that name whose only binary has that name (cargo lambda build --bin <name>)',
    (name) => {
      const toml = fs.readFileSync(crateManifest(REPO_DIR, name), 'utf-8');
      const pkg = /\[package\][^[]*?\bname\s*=\s*"([^"]+)"/s.exec(toml);
      expect(pkg?.[1]).toBe(name);
      const bins = [...toml.matchAll(/\[\[bin\]\][^[]*?\bname\s*=\s*"([^"]+)"/gs)].map((m) => m[1]);
      expect(bins.length <= 1).toBe(true);
      if (bins.length === 1) expect(bins[0]).toBe(name);
      expect(fs.existsSync(path.join(REPO_DIR, 'functions', name, 'src', 'main.rs')) || bins.length === 1).toBe(true);
    },
  );
});
