import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import { Node } from 'constructs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CDK_DIR, REPO_DIR } from './topology';

/** The app's settings from CDK context; the topology and declarations live in ./topology. */
export * from './topology';

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
  /**
   * `-c tracing=true`: X-Ray active tracing on every function (off by default). Lambda samples the
   * first request each second and 5 % of the rest, which at low volume traces almost every note, at
   * $5.00 per million traces: more than the rest of the logging bill, for handlers that record no
   * subsegments of their own. Turn it on while investigating latency.
   */
  readonly tracing: boolean;
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
  'tracing',
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
    tracing: parseBoolean('tracing', node.tryGetContext('tracing')),
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
