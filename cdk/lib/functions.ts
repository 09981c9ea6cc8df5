import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { RustFunction } from 'cargo-lambda-cdk';
import { NagSuppressions } from 'cdk-nag';
import { AppSettings, EnvKey, FunctionDeclaration, FunctionName, Topology, seconds, workspaceManifest } from './config';
import { constructIdFor, resourceName } from './naming';

/**
 * Where the JWT signing key comes from: the Secrets Manager secret (AWS: `JWT_SECRET_ARN`, read
 * permission granted), or, for the SAM CLI's local testing only, the `JWT_SECRET` variable, declared
 * without a value in the template and filled in by `events/env.json` (SAM only sets declared variables).
 */
export type JwtKeySource = { readonly secret: secretsmanager.ISecret } | { readonly localVariable: true };

/**
 * The queues a function's `sendsTo` may name, by their key in topology.json's `queues` (AWS: its URL
 * in `BROADCAST_QUEUE_URL`, send permission granted on it), or, for the SAM CLI's local testing only,
 * `BROADCAST_QUEUE_URL` declared without a value, filled in by `events/env.json` with the local
 * stack's queue.
 */
export type SendQueues = { readonly queues: Readonly<Record<string, sqs.IQueue>> } | { readonly localVariable: true };

export interface NotesFunctionsProps {
  readonly settings: AppSettings;
  readonly topology: Topology;
  readonly table: dynamodb.ITable;
  readonly bus: events.IEventBus;
  readonly jwt: JwtKeySource;
  /** What `sendsTo` names: the queue whose URL is `BROADCAST_QUEUE_URL`, and the only one it may send to. */
  readonly sendQueues: SendQueues;
  /** WEBSOCKET_MANAGEMENT_ENDPOINT of the functions declared with manageConnections. */
  readonly websocketManagementEndpoint: string;
  /**
   * Variables declared on every function that calls AWS, given its declaration (SAM's local testing:
   * `AWS_ENDPOINT_URL`, and `AWS_ENDPOINT_URL_DYNAMODB` for a function that uses the table, declared
   * so that `events/env.json` can point the SDK at the local stack's emulators).
   */
  readonly awsClientEnvironment?: (declaration: FunctionDeclaration) => Record<string, string>;
}

/** `RUST_LOG` that lets through what Lambda's application log level lets through. */
export function rustLogFor(level: string): string {
  return level.toLowerCase();
}

/**
 * Every function topology.json declares, created directly in `stack` (the SAM CLI names a function by the construct id
 * right under the stack, e.g. `PublishNote`). Each one is a binary of the Cargo workspace, built by
 * cargo-lambda from the workspace's root manifest with `--bin <name>` (what cargo-lambda-cdk advises
 * for workspaces: the Docker fallback then mounts the whole workspace, and every function shares one
 * target directory, so dependencies are compiled once for all of them).
 */
export function createFunctions(stack: Stack, props: NotesFunctionsProps): Record<FunctionName, lambda.Function> {
  const { settings, topology, table, bus, jwt, sendQueues } = props;
  const stage = settings.stage;
  const sendQueueOf = (name: string, key: string): sqs.IQueue | undefined => {
    if (!('queues' in sendQueues)) return undefined;
    const queue = sendQueues.queues[key];
    if (!queue) throw new Error(`function '${name}': no queue '${key}' to send to`);
    return queue;
  };
  const envValues: Record<Exclude<EnvKey, 'BROADCAST_QUEUE_URL'>, string> = {
    TABLE_NAME: table.tableName,
    EVENT_BUS_NAME: bus.eventBusName,
    WEBSOCKET_MANAGEMENT_ENDPOINT: props.websocketManagementEndpoint,
    JWT_SECRET_ARN: 'secret' in jwt ? jwt.secret.secretArn : '',
    JWT_TTL_SECONDS: String(settings.jwtTtlSeconds),
  };

  const fns = {} as Record<FunctionName, lambda.Function>;
  // Each function as topology.json declares it: limits, configuration, permissions.
  for (const [name, spec] of Object.entries(topology.functions)) {
    const cid = constructIdFor(name);
    const functionName = resourceName(stage, name);

    const logGroup = new logs.LogGroup(stack, `${cid}Logs`, {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: settings.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // One role per function, with no managed policy: logging to its own log group only.
    const role = new iam.Role(stack, `${cid}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${functionName} function`,
    });
    logGroup.grantWrite(role);

    const environment: Record<string, string> = { RUST_LOG: rustLogFor(settings.logLevel) };
    const sendsTo = spec.sendsTo === undefined ? undefined : sendQueueOf(name, spec.sendsTo);
    for (const key of spec.environment) {
      if (key === 'JWT_SECRET_ARN' && 'localVariable' in jwt) environment.JWT_SECRET = '';
      // The URL of the queue its sendsTo names (declared empty for events/env.json in the SAM stack).
      else if (key === 'BROADCAST_QUEUE_URL') environment[key] = sendsTo?.queueUrl ?? '';
      else environment[key] = envValues[key];
    }
    if (spec.environment.length > 0) Object.assign(environment, props.awsClientEnvironment?.(spec) ?? {});

    const fn = new RustFunction(stack, cid, {
      manifestPath: workspaceManifest(settings.workspaceDir),
      binaryName: name,
      functionName,
      architecture: settings.architecture,
      memorySize: spec.memoryMb,
      timeout: seconds(spec.timeoutSeconds),
      description: `notes suite: ${name}`,
      environment,
      role,
      logGroup,
      // X-Ray only on request (`-c tracing=true`): see AppSettings.tracing for what it costs.
      tracing: settings.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      // Lambda's JSON log format: the handlers' JSON lines (tracing) keep their fields, Lambda's own
      // platform lines become JSON too, and both are filtered by level at the source.
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[settings.logLevel],
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
    });

    if (spec.tableActions.length > 0) {
      // A function that queries an index gets its actions on that index only (never on the table,
      // never on every index: no `index/*`).
      const resource = spec.queriesIndex ? `${table.tableArn}/index/${spec.queriesIndex}` : table.tableArn;
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: spec.tableActions, resources: [resource] }));
    }
    if (spec.putEvents) bus.grantPutEventsTo(fn);
    // SendMessage (and SendMessageBatch, which it authorizes) on that one queue only.
    if (sendsTo) sendsTo.grantSendMessages(fn);
    if (spec.readSecret && 'secret' in jwt) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [jwt.secret.secretArn] }),
      );
    }
    if (settings.tracing) {
      NagSuppressions.addResourceSuppressions(
        role,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason:
              'X-Ray tracing (-c tracing=true, Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions, so AWS requires Resource "*".',
            appliesTo: ['Resource::*'],
          },
        ],
        true,
      );
    }
    fns[name] = fn;
  }
  return fns;
}
