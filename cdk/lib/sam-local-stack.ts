import { Stack, StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AppSettings, FunctionName, Topology } from './config';
import { createFunctions } from './functions';
import { NotesHttpApi, createHttpApi } from './http-api';
import { resourceName } from './naming';

/**
 * The origins the local stack serves the app from (`make local`): allowed by the SAM template's CORS,
 * with whatever `allowedOrigins` adds.
 */
export const LOCAL_APP_ORIGINS = ['http://127.0.0.1:8080', 'http://localhost:8080'];

/**
 * Variables the SAM template declares with no value, for `events/env.json` to fill in: SAM CLI only
 * passes a function the variables its template declares, and these only exist on the developer's
 * machine (the emulator, the local WebSocket API, the emulator's queue URL, the public development
 * signing key).
 */
export const SAM_ENV_FROM_FILE = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'WEBSOCKET_MANAGEMENT_ENDPOINT',
  'BROADCAST_QUEUE_URL',
  'JWT_SECRET',
] as const;

export interface SamLocalStackProps extends StackProps {
  readonly topology: Topology;
  readonly settings: AppSettings;
}

/**
 * What `sam local invoke` and `sam local start-api` load (`-c sam=true`): the same functions and HTTP
 * API as the backend stack, synthesized so the SAM CLI can read them, and wired to the local stack's
 * resources (`make local`), reached from SAM's containers through `host.docker.internal`:
 * - the table and the bus are the local stack's, named `notes-<stage>` and `notes-<stage>-bus` as it
 *   names them (stage `local` by default, its default prefix `notes-local`);
 * - CORS origins are literal strings (SAM cannot resolve `Fn::Join` or `Fn::ImportValue` there);
 * - there is no WebSocket API (SAM cannot load `$connect` routes; the local stack serves WebSockets);
 * - the JWT key comes from `JWT_SECRET`, not from Secrets Manager;
 * - there are no queues (the local stack's are moto's): `BROADCAST_QUEUE_URL` comes from `events/env.json`;
 * - there is no event source mapping: a queue's or the table stream's function is invoked by hand with
 *   a sample event (`sam local invoke PublishChanges -e events/dynamodb-note-changes.json`).
 * Never deployed: it is not part of `cdk deploy --all` (a separate synthesis).
 */
export class SamLocalStack extends Stack {
  public readonly functions: Record<FunctionName, lambda.Function>;
  public readonly http: NotesHttpApi;

  constructor(scope: Construct, id: string, props: SamLocalStackProps) {
    super(scope, id, props);
    const { settings, topology } = props;
    const table = dynamodb.Table.fromTableName(this, 'LocalTable', resourceName(settings.stage));
    const bus = events.EventBus.fromEventBusName(this, 'LocalBus', resourceName(settings.stage, 'bus'));
    this.functions = createFunctions(this, {
      settings,
      topology,
      table,
      bus,
      jwt: { localVariable: true },
      sendQueues: { localVariable: true },
      websocketManagementEndpoint: '',
      // moto (SQS, EventBridge) and DynamoDB Local (the table, for the functions that use it), as the
      // local stack runs them. A function that calls no table (publish-changes: it is handed the
      // stream's records) is not told the DynamoDB endpoint, as its crate's cargo-lambda metadata isn't.
      awsClientEnvironment: (declaration) => ({
        AWS_ENDPOINT_URL: '',
        ...(declaration.tableActions.length > 0 ? { AWS_ENDPOINT_URL_DYNAMODB: '' } : {}),
      }),
    });
    this.http = createHttpApi(this, {
      settings,
      topology,
      functions: this.functions,
      allowOrigins: [...new Set([...LOCAL_APP_ORIGINS, ...settings.allowedOrigins])],
    });
  }
}
