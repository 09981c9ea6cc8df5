import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  CONTEXT_KEYS,
  TOPOLOGY_PATH,
  checkFunctionDeclarations,
  checkQueues,
  checkTable,
  FUNCTION_NAMES,
  REPO_DIR,
  crateManifest,
  hostArchitecture,
  parseAllowedOrigins,
  parseArchitecture,
  parseStage,
  readSettings,
  workspaceManifest,
} from '../lib/config';
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
  const base = () => JSON.parse(fs.readFileSync(TOPOLOGY_PATH, 'utf-8'));
  const refused = (edit: (t: any) => void, why: RegExp) => {
    const t = base();
    edit(t);
    expect(() => checkFunctionDeclarations(t)).toThrow(why);
  };

  test('the committed file passes', () => {
    expect(() => checkFunctionDeclarations(base())).not.toThrow();
  });

  test('a declaration the app could not deploy as written is refused', () => {
    refused((t) => (t.functions.signup.environment = ['TABLE_NAME', 'TABEL_NAME']), /unknown variable 'TABEL_NAME'/);
    refused((t) => (t.functions.signup.trigger = { http: { method: 'POST', path: '/x' }, queue: 'noteCreated' }), /exactly one trigger/);
    refused((t) => (t.functions['save-note'].trigger = { queue: 'nope' }), /no queue 'nope'/);
    refused((t) => (t.functions.notify.trigger = { rule: 'nope' }), /no rule 'nope'/);
    refused((t) => (t.functions.login.trigger = { http: { method: 'POST', path: '/auth/signup' } }), /declared twice/);
    refused((t) => (t.functions.login.readSecret = false), /JWT_SECRET_ARN/);
    refused((t) => (t.functions['publish-note'].putEvents = false), /EVENT_BUS_NAME/);
    refused((t) => (t.functions.notify.manageConnections = false), /WEBSOCKET_MANAGEMENT_ENDPOINT/);
    refused((t) => (t.functions['get-notes'].tableActions = ['dynamodb:Scan']), /dynamodb:Scan/);
    refused((t) => (t.functions.signup.color = 'blue'), /unknown key 'color'/);
  });

  test('sendsTo must name a work queue, and comes with BROADCAST_QUEUE_URL (the queue URL) and only with it', () => {
    refused((t) => (t.functions.notify.sendsTo = 'nope'), /function 'notify': sendsTo "nope" is not a work queue of queues/);
    // A dead-letter queue is not a work queue: nothing may send to it but its redrive (or a rule's retry).
    refused((t) => (t.functions.notify.sendsTo = 'broadcastShardsDlq'), /function 'notify': sendsTo "broadcastShardsDlq" is not a work queue/);
    refused((t) => (t.functions.notify.sendsTo = 'notifyDlq'), /sendsTo "notifyDlq" is not a work queue/);
    refused((t) => (t.functions.notify.sendsTo = ['broadcastShards']), /sendsTo \["broadcastShards"\] is not a work queue/);
    refused((t) => (t.functions.notify.sendsTo = true), /sendsTo true is not a work queue/);
    refused((t) => delete t.functions.notify.sendsTo, /function 'notify': BROADCAST_QUEUE_URL and the permission that goes with it/);
    refused(
      (t) => (t.functions.notify.environment = t.functions.notify.environment.filter((v: string) => v !== 'BROADCAST_QUEUE_URL')),
      /function 'notify': BROADCAST_QUEUE_URL and the permission that goes with it/,
    );
    refused((t) => t.functions['publish-note'].environment.push('BROADCAST_QUEUE_URL'), /function 'publish-note': BROADCAST_QUEUE_URL/);
    // A function sending to the queue that triggers it would feed itself forever.
    refused((t) => {
      t.functions.broadcast.sendsTo = 'broadcastShards';
      t.functions.broadcast.environment.push('BROADCAST_QUEUE_URL');
    }, /function 'broadcast': sendsTo 'broadcastShards' is the queue that triggers it/);
    // Another work queue is accepted.
    const t = base();
    t.functions.notify.sendsTo = 'noteCreated';
    expect(() => checkFunctionDeclarations(t)).not.toThrow();
  });

  test('every queue trigger has its event source mapping, and every mapping feeds one function', () => {
    refused((t) => delete t.eventSourceMappings.broadcastShards, /function 'broadcast': queue 'broadcastShards' has no event source mapping in eventSourceMappings/);
    refused((t) => delete t.eventSourceMappings, /function 'save-note': queue 'noteCreated' has no event source mapping/);
    refused((t) => (t.functions.broadcast.trigger = { rule: 'noteResultsToNotify' }), /eventSourceMappings 'broadcastShards': must hand its batches to one function .* 0 are/);
    refused((t) => (t.functions['broadcast-again'] = { ...t.functions.broadcast }), /eventSourceMappings 'broadcastShards': must hand its batches to one function .* 2 are/);
    refused((t) => (t.eventSourceMappings.nope = { ...t.eventSourceMappings.broadcastShards }), /eventSourceMappings 'nope': is not a work queue/);
    refused((t) => (t.eventSourceMappings.notifyDlq = { ...t.eventSourceMappings.broadcastShards }), /eventSourceMappings 'notifyDlq': is not a work queue/);
  });

  test("an event source mapping Lambda would not take is refused", () => {
    refused((t) => (t.eventSourceMappings.broadcastShards.maximumConcurrency = 1), /'broadcastShards': maximumConcurrency must be an integer from 2 to 1000, got 1/);
    refused((t) => (t.eventSourceMappings.broadcastShards.batchSize = 0), /'broadcastShards': batchSize must be an integer from 1 to 10000, got 0/);
    refused((t) => (t.eventSourceMappings.broadcastShards.maximumBatchingWindowSeconds = 301), /maximumBatchingWindowSeconds must be an integer from 0 to 300/);
    refused((t) => (t.eventSourceMappings.broadcastShards.reportBatchItemFailures = 'yes'), /reportBatchItemFailures must be true or false/);
    refused((t) => (t.eventSourceMappings.broadcastShards.batchWindow = 1), /eventSourceMappings 'broadcastShards': unknown key 'batchWindow'/);
  });

  test('a work queue needs its settings and its dead-letter queue <queue>Dlq', () => {
    const refusedQueues = (edit: (t: any) => void, why: RegExp) => {
      const t = base();
      edit(t);
      expect(() => checkQueues(t)).toThrow(why);
    };
    expect(() => checkQueues(base())).not.toThrow();
    refusedQueues((t) => delete t.queues.broadcastShardsDlq, /queue 'broadcastShards': needs its dead-letter queue 'broadcastShardsDlq'/);
    refusedQueues((t) => delete t.queues.broadcastShards.visibilityTimeoutSeconds, /queue 'broadcastShards': visibilityTimeoutSeconds must be an integer >= 0, got undefined/);
    refusedQueues((t) => (t.queues.broadcastShards.retentionSeconds = '3600'), /queue 'broadcastShards': retentionSeconds must be an integer/);
  });

  test('a queriesIndex naming an index the table does not have is refused', () => {
    refused(
      (t) => (t.functions['get-public-notes'].queriesIndex = 'publicFeeds'),
      /function 'get-public-notes': queriesIndex 'publicFeeds' is not an index of the table .*'publicFeed'/,
    );
  });

  test('an index can only be queried: queriesIndex with another table action is refused', () => {
    refused(
      (t) => (t.functions['get-public-notes'].tableActions = ['dynamodb:Query', 'dynamodb:GetItem']),
      /function 'get-public-notes': queriesIndex: 'dynamodb:GetItem' cannot be granted on an index/,
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

  test.each([...FUNCTION_NAMES])(
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
