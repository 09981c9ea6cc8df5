import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import { Node } from 'constructs';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The cdk/ folder, whatever the working directory of the caller is. */
export const CDK_DIR = path.resolve(__dirname, '..');
/** The repository root (cdk/..). */
export const REPO_DIR = path.resolve(CDK_DIR, '..');

/** shared/topology.json: the event topology shared with the local stack (local/). */
export const TOPOLOGY_PATH = path.join(CDK_DIR, '../shared/topology.json');

/** Configuration variables of the contract (section 5) a function may declare. */
export const ENV_KEYS = ['TABLE_NAME', 'EVENT_BUS_NAME', 'WEBSOCKET_MANAGEMENT_ENDPOINT', 'JWT_SECRET_ARN', 'JWT_TTL_SECONDS'] as const;
export type EnvKey = (typeof ENV_KEYS)[number];

/** What invokes a function: exactly one of these (as topology.json writes it). */
export interface Trigger {
  readonly http?: { readonly method: string; readonly path: string };
  /** A WebSocket route key: `$connect`, `$disconnect`, `$default`. */
  readonly webSocket?: string;
  /** A key of `queues`, whose event source mapping hands it batches. */
  readonly queue?: string;
  /** A key of `rules`, which invokes it asynchronously. */
  readonly rule?: string;
}

/** The one declaration of a function in topology.json: trigger, limits, configuration, permissions. */
export interface FunctionDeclaration {
  readonly trigger: Trigger;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: EnvKey[];
  /** The DynamoDB actions its adapters call (a transaction is authorized by the actions of its parts). */
  readonly tableActions: string[];
  readonly putEvents?: boolean;
  readonly readSecret?: boolean;
  /** Posts to WebSocket connections through the Management API. */
  readonly manageConnections?: boolean;
  /** Hashes passwords (argon2id): its route gets the tighter throttle of `authThrottle`. */
  readonly hashesPasswords?: boolean;
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

export interface Topology {
  readonly eventSource: string;
  readonly table: { readonly partitionKey: string; readonly sortKey: string; readonly ttlAttribute: string };
  readonly archive: { readonly retentionDays: number; readonly eventPattern: Record<string, string[]> };
  readonly queues: {
    readonly noteCreated: {
      readonly visibilityTimeoutSeconds: number;
      readonly receiveWaitTimeSeconds: number;
      readonly retentionSeconds: number;
      readonly maxReceiveCount: number;
    };
    readonly noteCreatedDlq: { readonly retentionSeconds: number };
    readonly noteCreatedRuleDlq: { readonly retentionSeconds: number };
    readonly notifyDlq: { readonly retentionSeconds: number };
  };
  readonly rules: {
    readonly noteCreatedToQueue: TopologyRule;
    readonly noteResultsToNotify: TopologyRule;
  };
  readonly saveNoteEventSource: {
    readonly batchSize: number;
    readonly maximumBatchingWindowSeconds: number;
    readonly reportBatchItemFailures: boolean;
    /** Lambda's MaximumConcurrency for the SQS event source (2 to 1000). */
    readonly maximumConcurrency: number;
  };
  /** Every function, by name: its crate, its binary and (with the stage prefix) its Lambda function. */
  readonly functions: Record<string, FunctionDeclaration>;
}

/** shared/schemas/: the event catalog, one JSON Schema (draft-04) per event type. */
export const SCHEMAS_DIR = path.join(CDK_DIR, '../shared/schemas');
export const EVENT_TYPES = ['note-created', 'note-saved', 'note-failed', 'note-updated', 'note-deleted'] as const;

export function loadEventSchema(eventType: string): string {
  return fs.readFileSync(path.join(SCHEMAS_DIR, `${eventType}.schema.json`), 'utf-8');
}

/** Reads shared/topology.json afresh (no require cache), so tests compare against the file on disk. */
export function loadTopology(file: string = TOPOLOGY_PATH): Topology {
  const topology = JSON.parse(fs.readFileSync(file, 'utf-8')) as Topology;
  checkFunctionDeclarations(topology);
  return topology;
}

const TRIGGER_KINDS = ['http', 'webSocket', 'queue', 'rule'] as const;
const DECLARATION_KEYS = new Set([
  'trigger', 'timeoutSeconds', 'memoryMb', 'environment', 'tableActions', 'putEvents', 'readSecret', 'manageConnections',
  'hashesPasswords',
]);

/**
 * Refuses a declaration the app could not deploy as written: an unknown key or variable, not exactly
 * one trigger, a queue or rule that does not exist, a route declared twice, or a permission without
 * the variable that goes with it (and the other way round).
 */
export function checkFunctionDeclarations(t: Topology): void {
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
    if (f.trigger.queue !== undefined && !(f.trigger.queue in t.queues)) fail(`no queue '${f.trigger.queue}'`);
    if (f.trigger.rule !== undefined && !(f.trigger.rule in t.rules)) fail(`no rule '${f.trigger.rule}'`);
    for (const v of f.environment) if (!(ENV_KEYS as ReadonlyArray<string>).includes(v)) fail(`unknown variable '${v}'`);
    const pairs: Array<[boolean, EnvKey]> = [
      [!!f.readSecret, 'JWT_SECRET_ARN'],
      [!!f.putEvents, 'EVENT_BUS_NAME'],
      [!!f.manageConnections, 'WEBSOCKET_MANAGEMENT_ENDPOINT'],
      [f.tableActions.length > 0, 'TABLE_NAME'],
    ];
    for (const [permitted, variable] of pairs) {
      if (permitted !== f.environment.includes(variable)) fail(`${variable} and the permission that goes with it come together`);
    }
    for (const a of f.tableActions) if (!/^dynamodb:[A-Z][A-Za-z]+$/.test(a) || a === 'dynamodb:Scan') fail(`table action '${a}'`);
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

/** The one function a queue or rule invokes. */
export function functionTriggeredBy(t: Topology, trigger: { queue: string } | { rule: string }): string {
  const found = Object.entries(t.functions)
    .filter(([, f]) => ('queue' in trigger ? f.trigger.queue === trigger.queue : f.trigger.rule === trigger.rule))
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


/**
 * Lambda's application log levels the app accepts (also `RUST_LOG`). Not WARN or ERROR: Lambda gives
 * a JSON line without a `level` the level INFO, so above INFO it would drop the handlers' metric lines
 * (CloudWatch EMF), and with them the metrics and the alarms built on them.
 */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** An optional custom domain for the CloudFront distribution (the app's own URL). */
export interface CustomDomain {
  readonly domainName: string;
  /** ACM certificate for `domainName`, in us-east-1 (CloudFront's requirement). */
  readonly certificateArn: string;
  /** Route 53 zone in which to create the alias records; without it, point DNS at the distribution yourself. */
  readonly hostedZone?: { readonly id: string; readonly name: string };
}

/** Settings read from CDK context (`-c key=value` or cdk.json). */
export interface AppSettings {
  /** Environment name (`dev`, `prod`, …): in every stack name and every resource name the app sets. */
  readonly stage: string;
  /**
   * `-c sam=true`: synthesize only the SAM CLI's local-testing stack (functions and the HTTP API,
   * wired to the local stack's emulators) instead of the four deployable stacks.
   */
  readonly samLocal: boolean;
  readonly architecture: lambda.Architecture;
  /** Extra CORS origins; the CloudFront origin of the frontend is always allowed. */
  readonly allowedOrigins: string[];
  readonly httpThrottle: { rateLimit: number; burstLimit: number };
  /** Route throttling of `POST /auth/signup` and `POST /auth/login` (argon2id, CPU-heavy on purpose). */
  readonly authThrottle: { rateLimit: number; burstLimit: number };
  readonly wsThrottle: { rateLimit: number; burstLimit: number };
  readonly logRetentionDays: number;
  /** Lambda's application log level (JSON log format); `RUST_LOG` follows it. */
  readonly logLevel: LogLevel;
  /** The Cargo workspace (default: the repository root): every function is a binary built from it. */
  readonly workspaceDir: string;
  /** The built frontend (default ../frontend/build); deployed only if it exists. */
  readonly frontendBuildDir: string;
  readonly jwtTtlSeconds: number;
  /** Subscribed by e-mail to the alarm topic when given. */
  readonly alarmEmail?: string;
  readonly domain?: CustomDomain;
}

/** The context keys the app reads (anything else given with -c is refused, so a typo cannot pass unnoticed). */
export const CONTEXT_KEYS = [
  'stage',
  'sam',
  'arch',
  'allowedOrigins',
  'httpThrottleRateLimit',
  'httpThrottleBurstLimit',
  'authThrottleRateLimit',
  'authThrottleBurstLimit',
  'wsThrottleRateLimit',
  'wsThrottleBurstLimit',
  'logRetentionDays',
  'logLevel',
  'jwtTtlSeconds',
  'alarmEmail',
  'domainName',
  'certificateArn',
  'hostedZoneId',
  'hostedZoneName',
  'cargoWorkspace',
  'frontendBuildDir',
  'skipBundling',
] as const;

/** The architecture of this machine, which `sam local` runs functions on without emulation. */
export function hostArchitecture(): lambda.Architecture {
  return process.arch === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
}

/** `arch` context: arm64 (Graviton, about 20 % cheaper per GB-second) unless x86_64 is asked for. */
export function parseArchitecture(value: unknown, fallback: lambda.Architecture = lambda.Architecture.ARM_64): lambda.Architecture {
  if (value === undefined || value === null || value === '') return fallback;
  const v = String(value).trim().toLowerCase();
  if (['x86_64', 'x86-64', 'amd64', 'x86'].includes(v)) return lambda.Architecture.X86_64;
  if (['arm64', 'aarch64', 'arm'].includes(v)) return lambda.Architecture.ARM_64;
  throw new Error(`context 'arch' must be x86_64 or arm64, got '${value}'`);
}

/** `stage` context: lower-case letters, digits and hyphens, starting with a letter, at most 12 characters. */
export function parseStage(value: unknown, fallback: string): string {
  const s = value === undefined || value === null || value === '' ? fallback : String(value).trim();
  if (!/^[a-z][a-z0-9-]{0,11}$/.test(s) || s.endsWith('-')) {
    throw new Error(
      `context 'stage' must be 1-12 lower-case letters, digits or hyphens, starting with a letter (got '${s}')`,
    );
  }
  return s;
}

export function parseBoolean(key: string, value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context '${key}' must be true or false, got '${value}'`);
}

export function parseLogLevel(value: unknown): LogLevel {
  const v = String(value ?? 'INFO').trim().toUpperCase();
  if (!(LOG_LEVELS as ReadonlyArray<string>).includes(v)) {
    throw new Error(`context 'logLevel' must be one of ${LOG_LEVELS.join(', ')}, got '${value}'`);
  }
  return v as LogLevel;
}

/**
 * Parses the `allowedOrigins` context: a comma-separated string (as `-c allowedOrigins=a,b` gives it)
 * or a JSON array (as cdk.json may hold it). Every entry must be a full http(s) origin; `*` is refused.
 */
export function parseAllowedOrigins(value: unknown): string[] {
  let items: unknown[];
  if (value === undefined || value === null || value === '') {
    items = [];
  } else if (Array.isArray(value)) {
    items = value;
  } else {
    const s = String(value).trim();
    items = s.startsWith('[') ? (JSON.parse(s) as unknown[]) : s.split(',');
  }
  const origins = items.map((o) => String(o).trim().replace(/\/+$/, '')).filter((o) => o.length > 0);
  for (const o of origins) {
    if (o.includes('*')) {
      throw new Error(`context 'allowedOrigins' must list explicit origins, '*' is not allowed (got '${o}')`);
    }
    if (!/^https?:\/\/[a-zA-Z0-9.-]+(:\d+)?$/.test(o)) {
      throw new Error(`context 'allowedOrigins': '${o}' is not an origin like https://example.com`);
    }
  }
  return [...new Set(origins)];
}

/** The custom domain from `domainName`, `certificateArn` and (optionally) `hostedZoneId` + `hostedZoneName`. */
export function parseCustomDomain(node: Node): CustomDomain | undefined {
  const get = (key: string): string | undefined => {
    const v = node.tryGetContext(key);
    return v === undefined || v === null || String(v).trim() === '' ? undefined : String(v).trim();
  };
  const domainName = get('domainName');
  const certificateArn = get('certificateArn');
  const zoneId = get('hostedZoneId');
  const zoneName = get('hostedZoneName');
  if (!domainName) {
    if (certificateArn || zoneId || zoneName) {
      throw new Error("context 'certificateArn', 'hostedZoneId' and 'hostedZoneName' need 'domainName'");
    }
    return undefined;
  }
  if (!/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(domainName)) {
    throw new Error(`context 'domainName': '${domainName}' is not a domain name like notes.example.com`);
  }
  if (!certificateArn) throw new Error("context 'domainName' needs 'certificateArn' (an ACM certificate in us-east-1)");
  if (!/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/.test(certificateArn)) {
    throw new Error(`context 'certificateArn' must be an ACM certificate in us-east-1 (CloudFront's region), got '${certificateArn}'`);
  }
  if ((zoneId === undefined) !== (zoneName === undefined)) {
    throw new Error("context 'hostedZoneId' and 'hostedZoneName' go together");
  }
  return {
    domainName,
    certificateArn,
    ...(zoneId && zoneName ? { hostedZone: { id: zoneId, name: zoneName.replace(/\.$/, '') } } : {}),
  };
}

/**
 * Context keys given to the app that it does not read (a typo, or a key from an older version).
 * The app's keys are camelCase; keys of CDK itself (`@aws-cdk/…`, `aws:cdk:…`) and of the CLI
 * (`acknowledged-issue-numbers`, lookups like `availability-zones:…`) are left alone.
 */
export function unknownContextKeys(node: Node): string[] {
  const known = new Set<string>(CONTEXT_KEYS);
  return Object.keys(node.getAllContext())
    .filter((k) => !k.includes(':') && !k.startsWith('@') && !k.includes('-'))
    .filter((k) => !known.has(k))
    .sort();
}

function positiveNumber(node: Node, key: string, fallback: number): number {
  const raw = node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`context '${key}' must be a positive number, got '${raw}'`);
  return n;
}

/** The stage SAM-only synthesis uses by default: the local stack's default resource prefix is `notes-local`. */
export const SAM_LOCAL_STAGE = 'local';

export function readSettings(node: Node): AppSettings {
  const unknown = unknownContextKeys(node);
  if (unknown.length > 0) {
    throw new Error(`unknown context key(s): ${unknown.join(', ')} (known: ${CONTEXT_KEYS.join(', ')})`);
  }
  const samLocal = parseBoolean('sam', node.tryGetContext('sam'));
  const workspaceDir = node.tryGetContext('cargoWorkspace') ?? REPO_DIR;
  const frontendBuildDir = node.tryGetContext('frontendBuildDir') ?? path.join(CDK_DIR, '../frontend/build');
  const alarmEmail = node.tryGetContext('alarmEmail');
  if (alarmEmail !== undefined && alarmEmail !== '' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(String(alarmEmail))) {
    throw new Error(`context 'alarmEmail' is not an e-mail address: '${alarmEmail}'`);
  }
  return {
    stage: parseStage(node.tryGetContext('stage'), samLocal ? SAM_LOCAL_STAGE : 'dev'),
    samLocal,
    // sam local runs the functions in Docker on this machine: build for its architecture by default.
    architecture: parseArchitecture(node.tryGetContext('arch'), samLocal ? hostArchitecture() : lambda.Architecture.ARM_64),
    allowedOrigins: parseAllowedOrigins(node.tryGetContext('allowedOrigins')),
    httpThrottle: {
      rateLimit: positiveNumber(node, 'httpThrottleRateLimit', 50),
      burstLimit: positiveNumber(node, 'httpThrottleBurstLimit', 100),
    },
    authThrottle: {
      rateLimit: positiveNumber(node, 'authThrottleRateLimit', 5),
      burstLimit: positiveNumber(node, 'authThrottleBurstLimit', 10),
    },
    wsThrottle: {
      rateLimit: positiveNumber(node, 'wsThrottleRateLimit', 20),
      burstLimit: positiveNumber(node, 'wsThrottleBurstLimit', 50),
    },
    logRetentionDays: positiveNumber(node, 'logRetentionDays', 30),
    logLevel: parseLogLevel(node.tryGetContext('logLevel')),
    workspaceDir: path.resolve(CDK_DIR, String(workspaceDir)),
    frontendBuildDir: path.resolve(CDK_DIR, String(frontendBuildDir)),
    jwtTtlSeconds: positiveNumber(node, 'jwtTtlSeconds', 86400),
    ...(alarmEmail ? { alarmEmail: String(alarmEmail) } : {}),
    ...(parseCustomDomain(node) ? { domain: parseCustomDomain(node) } : {}),
  };
}

/** The workspace's root manifest: every function is built from it (`cargo lambda build --bin <name>`). */
export function workspaceManifest(workspaceDir: string): string {
  return path.join(workspaceDir, 'Cargo.toml');
}

/** `<workspace>/functions/<name>/Cargo.toml`: the crate of one function. */
export function crateManifest(workspaceDir: string, name: string): string {
  return path.join(workspaceDir, 'functions', name, 'Cargo.toml');
}

export function seconds(n: number): Duration {
  return Duration.seconds(n);
}
