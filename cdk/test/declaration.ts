/**
 * What the tests hold the synthesized templates to: shared/topology.json (every function, queue, rule
 * and event source mapping) and shared/openapi.yaml (the HTTP API), read here on their own, without
 * the app's code (lib/), so a test fails when the app and the files disagree. No test keeps a list or
 * a count of functions, queues or routes of its own: every one is derived from these files.
 */
import * as fs from 'fs';
import * as path from 'path';

const SHARED_DIR = path.join(__dirname, '../../shared');

/** One function's declaration, as topology.json writes it. */
export interface Declared {
  readonly trigger: {
    readonly http?: { readonly method: string; readonly path: string };
    readonly webSocket?: string;
    readonly queue?: string;
    readonly rule?: string;
    readonly stream?: string;
  };
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: string[];
  readonly tableActions: string[];
  readonly queriesIndex?: string;
  readonly putEvents?: boolean;
  readonly readSecret?: boolean;
  readonly manageConnections?: boolean;
  readonly hashesPasswords?: boolean;
  readonly sendsTo?: string;
}

/** shared/topology.json, parsed afresh (tests that edit a copy take `readDeclaration()`). */
export function readDeclaration(): any {
  return JSON.parse(fs.readFileSync(path.join(SHARED_DIR, 'topology.json'), 'utf-8'));
}

export const declaration = readDeclaration();

/** Every declared function, in file order. */
export const FUNCTIONS: string[] = Object.keys(declaration.functions);

export function declared(name: string): Declared {
  const f = declaration.functions[name];
  if (!f) throw new Error(`topology.json declares no function '${name}'`);
  return f;
}

/** The declared functions for which `test` holds, in file order. */
export function functionsWhere(test: (f: Declared) => boolean): string[] {
  return FUNCTIONS.filter((name) => test(declared(name)));
}

/** The first declared function for which `test` holds (a fixture for tests of one behaviour). */
export function aFunctionWhere(test: (f: Declared) => boolean, what: string): string {
  const [name] = functionsWhere(test);
  if (!name) throw new Error(`topology.json declares no function that ${what}`);
  return name;
}

/** The construct id the app gives a key of topology.json (noteCreated -> NoteCreated). */
export const idOfKey = (key: string): string => key.charAt(0).toUpperCase() + key.slice(1);

/** A key of topology.json in kebab case, as resource names carry it (noteCreatedDlq -> note-created-dlq). */
export const kebabOfKey = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** Whether a key of `queues` is a work queue (redriven to its DLQ after `maxReceiveCount` receives). */
export const isWorkQueue = (key: string): boolean => declaration.queues[key]?.maxReceiveCount !== undefined;

/** Every queue of `queues`, in file order. */
export const QUEUES: string[] = Object.keys(declaration.queues);

/**
 * The queues nothing consumes: each work queue's `<key>Dlq`, the rules' dead-letter queues and the
 * stream mappings' on-failure queues.
 */
export const DEAD_LETTER_QUEUES: string[] = QUEUES.filter((key) => !isWorkQueue(key));

/** The one function a work queue's event source hands its batches to. */
export function consumerOf(queueKey: string): string {
  const consumers = functionsWhere((f) => f.trigger.queue === queueKey);
  if (consumers.length !== 1) throw new Error(`queue '${queueKey}' must feed one function, it feeds ${consumers.length}`);
  return consumers[0];
}

/** The work queues: their key, the construct id the app gives them (`<id>Queue`, `<id>Dlq`) and their consumer. */
export const WORK_QUEUES: Array<[key: string, id: string, consumer: string]> = QUEUES.filter(isWorkQueue).map((key) => [
  key,
  idOfKey(key),
  consumerOf(key),
]);

/**
 * The functions a stream mapping of `streams` feeds the table's stream to: the function, the mapping's
 * key and its on-failure queue.
 */
export const STREAM_TRIGGERED: Array<[fn: string, stream: string, onFailure: string]> = functionsWhere((f) => !!f.trigger.stream).map(
  (name) => {
    const stream = declared(name).trigger.stream!;
    const mapping = declaration.streams?.[stream];
    if (!mapping) throw new Error(`function '${name}': no stream mapping '${stream}' in streams`);
    return [name, stream, mapping.onFailure];
  },
);

/** DynamoDB's actions that read a table's stream (what Lambda's DynamoDB event source needs). */
export const STREAM_READ_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];

/** The rules, by key. */
export const RULES: string[] = Object.keys(declaration.rules);

/** The HTTP routes topology.json declares: API Gateway's route key (`GET /notes/{noteId}`) and its function. */
export const HTTP_ROUTES: Array<[routeKey: string, fn: string]> = functionsWhere((f) => !!f.trigger.http).map((name) => {
  const { method, path: p } = declared(name).trigger.http!;
  return [`${method} ${p}`, name];
});

/** The WebSocket routes topology.json declares (`$connect`, …) and their function. */
export const WEBSOCKET_ROUTES: Array<[routeKey: string, fn: string]> = functionsWhere((f) => !!f.trigger.webSocket).map(
  (name) => [declared(name).trigger.webSocket!, name],
);

const OPENAPI_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * The operations shared/openapi.yaml documents, as route keys (`POST /notes`): the path items under
 * `paths:` (two spaces in) and their methods (four spaces in). A line-based reading, enough for the
 * file's block style; it fails rather than guess if it finds no path.
 */
export function openApiOperations(): string[] {
  const text = fs.readFileSync(path.join(SHARED_DIR, 'openapi.yaml'), 'utf-8');
  const operations: string[] = [];
  let inPaths = false;
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) {
      inPaths = /^paths:\s*$/.test(line);
      current = undefined;
      continue;
    }
    if (!inPaths) continue;
    const pathItem = /^ {2}(\/\S*):\s*$/.exec(line);
    if (pathItem) {
      current = pathItem[1].replace(/^'(.*)'$|^"(.*)"$/, '$1$2');
      continue;
    }
    const method = /^ {4}([a-z]+):/.exec(line);
    if (current && method && OPENAPI_METHODS.includes(method[1])) operations.push(`${method[1].toUpperCase()} ${current}`);
  }
  if (operations.length === 0) throw new Error('shared/openapi.yaml: no operation found under paths:');
  return operations;
}

/** The event types of the catalog: one JSON Schema each in shared/schemas/ (`<type>.schema.json`). */
export function schemaEventTypes(): string[] {
  return fs
    .readdirSync(path.join(SHARED_DIR, 'schemas'))
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => f.replace(/\.schema\.json$/, ''));
}
