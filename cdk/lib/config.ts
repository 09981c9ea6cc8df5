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

export interface FunctionSizing {
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
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
    readonly notifyDlq: { readonly retentionSeconds: number };
  };
  readonly rules: {
    readonly noteCreatedToQueue: { readonly eventPattern: Record<string, string[]>; readonly target: string };
    readonly noteResultsToNotify: {
      readonly eventPattern: Record<string, string[]>;
      readonly target: string;
      readonly retryPolicy: { readonly maximumRetryAttempts: number; readonly maximumEventAgeSeconds: number };
      readonly deadLetterQueue: string;
    };
  };
  readonly saveNoteEventSource: {
    readonly batchSize: number;
    readonly maximumBatchingWindowSeconds: number;
    readonly reportBatchItemFailures: boolean;
  };
  readonly functions: Record<string, FunctionSizing>;
}

/** shared/schemas/: the event catalog, one JSON Schema (draft-04) per event type. */
export const SCHEMAS_DIR = path.join(CDK_DIR, '../shared/schemas');
export const EVENT_TYPES = ['note-created', 'note-saved', 'note-failed', 'note-updated', 'note-deleted'] as const;

export function loadEventSchema(eventType: string): string {
  return fs.readFileSync(path.join(SCHEMAS_DIR, `${eventType}.schema.json`), 'utf-8');
}

/** shared/routes.json: every HTTP and WebSocket route and its function, shared with the Rust code. */
export const ROUTES_PATH = path.join(CDK_DIR, '../shared/routes.json');

export interface Routes {
  readonly http: ReadonlyArray<{ readonly method: string; readonly path: string; readonly function: string }>;
  readonly webSocket: ReadonlyArray<{ readonly route: string; readonly function: string }>;
}

export function loadRoutes(file: string = ROUTES_PATH): Routes {
  return JSON.parse(fs.readFileSync(file, 'utf-8')) as Routes;
}

/** Reads shared/topology.json afresh (no require cache), so tests compare against the file on disk. */
export function loadTopology(file: string = TOPOLOGY_PATH): Topology {
  return JSON.parse(fs.readFileSync(file, 'utf-8')) as Topology;
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

/** The Lambda functions of the suite: crate folder = package = binary = function name. */
export const FUNCTION_NAMES = [
  'publish-note',
  'save-note',
  'notify',
  'connect',
  'disconnect',
  'ws-default',
  'signup',
  'login',
  'get-user',
  'get-notes',
  'get-public-notes',
  'get-note',
  'update-note',
  'delete-note',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Settings read from CDK context (`-c key=value` or cdk.json). */
export interface AppSettings {
  readonly architecture: lambda.Architecture;
  /** Extra CORS origins; the CloudFront origin of the frontend is always allowed. */
  readonly allowedOrigins: string[];
  readonly httpThrottle: { rateLimit: number; burstLimit: number };
  readonly wsThrottle: { rateLimit: number; burstLimit: number };
  readonly logRetentionDays: number;
  /** Folder holding one crate per function (default ../functions, relative to cdk/). */
  readonly functionsDir: string;
  /** The built frontend (default ../frontend/build); deployed only if it exists. */
  readonly frontendBuildDir: string;
  readonly jwtTtlSeconds: number;
}

export function parseArchitecture(value: unknown): lambda.Architecture {
  const v = String(value ?? 'x86_64').trim().toLowerCase();
  if (['x86_64', 'x86-64', 'amd64', 'x86'].includes(v)) return lambda.Architecture.X86_64;
  if (['arm64', 'aarch64', 'arm'].includes(v)) return lambda.Architecture.ARM_64;
  throw new Error(`context 'arch' must be x86_64 or arm64, got '${value}'`);
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

function positiveNumber(node: Node, key: string, fallback: number): number {
  const raw = node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`context '${key}' must be a positive number, got '${raw}'`);
  return n;
}

export function readSettings(node: Node): AppSettings {
  const functionsDir = node.tryGetContext('functionsDir') ?? path.join(CDK_DIR, '../functions');
  const frontendBuildDir = node.tryGetContext('frontendBuildDir') ?? path.join(CDK_DIR, '../frontend/build');
  return {
    architecture: parseArchitecture(node.tryGetContext('arch')),
    allowedOrigins: parseAllowedOrigins(node.tryGetContext('allowedOrigins')),
    httpThrottle: {
      rateLimit: positiveNumber(node, 'httpThrottleRateLimit', 50),
      burstLimit: positiveNumber(node, 'httpThrottleBurstLimit', 100),
    },
    wsThrottle: {
      rateLimit: positiveNumber(node, 'wsThrottleRateLimit', 20),
      burstLimit: positiveNumber(node, 'wsThrottleBurstLimit', 50),
    },
    logRetentionDays: positiveNumber(node, 'logRetentionDays', 30),
    functionsDir: path.resolve(CDK_DIR, String(functionsDir)),
    frontendBuildDir: path.resolve(CDK_DIR, String(frontendBuildDir)),
    jwtTtlSeconds: positiveNumber(node, 'jwtTtlSeconds', 86400),
  };
}

/** `<functionsDir>/<name>/Cargo.toml`: the manifest RustFunction builds. */
export function manifestPathFor(functionsDir: string, name: string): string {
  return path.join(functionsDir, name, 'Cargo.toml');
}

export function seconds(n: number): Duration {
  return Duration.seconds(n);
}
