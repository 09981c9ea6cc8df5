import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { RustFunction } from 'cargo-lambda-cdk';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  AppSettings,
  FUNCTION_NAMES,
  FunctionName,
  EVENT_TYPES,
  Topology,
  loadEventSchema,
  loadRoutes,
  manifestPathFor,
  seconds,
  toCdkEventPattern,
} from './config';
import { Monitoring } from './monitoring';

/** Lambda's asynchronous retries of a failed notify invocation (its default; 3 attempts in all). */
export const NOTIFY_ASYNC_RETRIES = 2;
import { constructIdFor } from './naming';

export interface BackendStackProps extends StackProps {
  readonly topology: Topology;
  readonly settings: AppSettings;
  readonly table: dynamodb.ITable;
  readonly jwtSecret: secretsmanager.ISecret;
  /** Origin of the CloudFront-hosted frontend, always allowed by CORS. */
  readonly siteOrigin: string;
}

/** Environment variables of the contract (section 5) a function may be given. */
type EnvKey = 'TABLE_NAME' | 'EVENT_BUS_NAME' | 'WEBSOCKET_MANAGEMENT_ENDPOINT' | 'JWT_SECRET_ARN' | 'JWT_TTL_SECONDS';

/** What each function is given: its environment and its DynamoDB actions (least privilege). */
interface FunctionSpec {
  readonly env: EnvKey[];
  readonly tableActions: string[];
  readonly putEvents?: boolean;
  readonly readSecret?: boolean;
}

// DynamoDB has no IAM action for TransactWriteItems itself: a transaction is authorized through
// the actions of its parts (PutItem, UpdateItem, DeleteItem, ConditionCheckItem). No Scan anywhere.
export const FUNCTION_SPECS: Record<FunctionName, FunctionSpec> = {
  'publish-note': {
    env: ['TABLE_NAME', 'EVENT_BUS_NAME', 'JWT_SECRET_ARN'],
    tableActions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
    putEvents: true,
    readSecret: true,
  },
  'save-note': {
    env: ['TABLE_NAME', 'EVENT_BUS_NAME'],
    // One transaction: ConditionCheck (owner exists, no tombstone) + conditional Puts of the copies.
    tableActions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'],
    putEvents: true,
  },
  notify: {
    env: ['TABLE_NAME', 'WEBSOCKET_MANAGEMENT_ENDPOINT'],
    // Queries the owner's and the broadcast connections; on 410 Gone reads the connection and
    // deletes its items in one transaction.
    tableActions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
  },
  connect: {
    env: ['TABLE_NAME', 'JWT_SECRET_ARN'],
    tableActions: ['dynamodb:PutItem'],
    readSecret: true,
  },
  disconnect: {
    env: ['TABLE_NAME'],
    tableActions: ['dynamodb:GetItem', 'dynamodb:DeleteItem'],
  },
  'ws-default': { env: [], tableActions: [] },
  signup: { env: ['TABLE_NAME'], tableActions: ['dynamodb:PutItem'] },
  login: {
    env: ['TABLE_NAME', 'JWT_SECRET_ARN', 'JWT_TTL_SECONDS'],
    tableActions: ['dynamodb:GetItem'],
    readSecret: true,
  },
  'get-user': { env: ['TABLE_NAME', 'JWT_SECRET_ARN'], tableActions: ['dynamodb:GetItem'], readSecret: true },
  'get-notes': { env: ['TABLE_NAME', 'JWT_SECRET_ARN'], tableActions: ['dynamodb:Query'], readSecret: true },
  'get-public-notes': { env: ['TABLE_NAME'], tableActions: ['dynamodb:Query'] },
  'get-note': { env: ['TABLE_NAME', 'JWT_SECRET_ARN'], tableActions: ['dynamodb:GetItem'], readSecret: true },
  'update-note': {
    env: ['TABLE_NAME', 'EVENT_BUS_NAME', 'JWT_SECRET_ARN'],
    // Conditional Put of the owner's copy, Put or Delete of the public copy, in one transaction.
    tableActions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
    putEvents: true,
    readSecret: true,
  },
  'delete-note': {
    env: ['TABLE_NAME', 'EVENT_BUS_NAME', 'JWT_SECRET_ARN'],
    // Conditional Delete of the owner's copy, Delete of the public copy and Put of a tombstone
    // (so a late note-created cannot bring the note back), in one transaction.
    tableActions: ['dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem'],
    putEvents: true,
    readSecret: true,
  },
};

/** HTTP routes of the contract (section 1), from shared/routes.json: method, path, function. */
export const HTTP_ROUTES: ReadonlyArray<{ method: apigwv2.HttpMethod; path: string; fn: FunctionName }> = loadRoutes().http.map(
  (r) => {
    if (!(FUNCTION_NAMES as ReadonlyArray<string>).includes(r.function)) {
      throw new Error(`routes.json: ${r.method} ${r.path} names an unknown function '${r.function}'`);
    }
    return { method: r.method as apigwv2.HttpMethod, path: r.path, fn: r.function as FunctionName };
  },
);


const AUTH_IN_LAMBDA_REASON =
  'Authentication is done inside the Lambda handlers (HS256 JWT from Secrets Manager, contract section 1), so that the same handlers behave identically behind API Gateway and in the local stack; routes without a token (signup, login, public feed, CORS preflight) are public by design.';

/**
 * The stateless backend: event bus, archive, queues and rules, every Lambda function, the HTTP API,
 * the WebSocket API, and their alarms and dashboard.
 */
export class BackendStack extends Stack {
  public readonly bus: events.EventBus;
  public readonly noteCreatedQueue: sqs.Queue;
  public readonly noteCreatedDlq: sqs.Queue;
  public readonly notifyDlq: sqs.Queue;
  public readonly functions: Record<FunctionName, lambda.Function>;
  public readonly httpApi: apigwv2.HttpApi;
  public readonly httpStage: apigwv2.HttpStage;
  public readonly wsApi: apigwv2.WebSocketApi;
  public readonly wsStage: apigwv2.WebSocketStage;
  /** https URL of the HTTP API (no trailing slash). */
  public readonly httpApiUrl: string;
  /** wss://<api>.execute-api.<region>.amazonaws.com/<stage> */
  public readonly wsUrl: string;

  constructor(scope: Construct, id: string, props: BackendStackProps) {
    super(scope, id, props);
    const { topology, settings, table, jwtSecret } = props;
    const fnSizing = (name: FunctionName) => {
      const sizing = topology.functions[name];
      if (!sizing) throw new Error(`shared/topology.json has no settings for function '${name}'`);
      return sizing;
    };

    // ---------------------------------------------------------------- events
    this.bus = new events.EventBus(this, 'EventBus', {
      description: `Note events (source ${topology.eventSource})`,
    });
    const archive = this.bus.archive('AllEventsArchive', {
      description: 'Every note event, kept for replay',
      eventPattern: toCdkEventPattern(topology.archive.eventPattern),
      retention: Duration.days(topology.archive.retentionDays),
    });

    // The event catalog in EventBridge's schema registry, so consumers can discover the events and
    // generate code bindings. The content is the committed schema files, the same ones the Rust
    // tests hold every emitted event to. Named `source@detail-type`, as discovered schemas are.
    const registry = new eventschemas.CfnRegistry(this, 'EventSchemaRegistry', {
      description: 'The notes.service event catalog (shared/schemas/)',
    });
    for (const eventType of EVENT_TYPES) {
      new eventschemas.CfnSchema(this, `${constructIdFor(eventType)}Schema`, {
        registryName: registry.attrRegistryName,
        schemaName: `${topology.eventSource}@${eventType}`,
        type: 'JSONSchemaDraft4',
        content: loadEventSchema(eventType),
        description: `detail of ${eventType} (eventVersion 1)`,
      });
    }

    const q = topology.queues;
    this.noteCreatedDlq = new sqs.Queue(this, 'NoteCreatedDlq', {
      retentionPeriod: seconds(q.noteCreatedDlq.retentionSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.noteCreatedQueue = new sqs.Queue(this, 'NoteCreatedQueue', {
      visibilityTimeout: seconds(q.noteCreated.visibilityTimeoutSeconds),
      receiveMessageWaitTime: seconds(q.noteCreated.receiveWaitTimeSeconds),
      retentionPeriod: seconds(q.noteCreated.retentionSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.noteCreatedDlq, maxReceiveCount: q.noteCreated.maxReceiveCount },
    });
    this.notifyDlq = new sqs.Queue(this, 'NotifyDlq', {
      retentionPeriod: seconds(q.notifyDlq.retentionSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    NagSuppressions.addResourceSuppressions(this.notifyDlq, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          "This queue is a dead-letter queue: the DLQ of the EventBridge rule target 'notify' (cdk-nag only recognises DLQs named in another queue's redrive policy).",
      },
    ]);

    // ------------------------------------------------------------- websocket
    this.wsApi = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      description: 'Notes suite live updates',
    });
    const wsStageName = 'prod';
    const wsLogGroup = new logs.LogGroup(this, 'WebSocketAccessLogs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.wsStage = new apigwv2.WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: this.wsApi,
      stageName: wsStageName,
      autoDeploy: true,
      throttle: settings.wsThrottle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(wsLogGroup),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            status: '$context.status',
            connectionId: '$context.connectionId',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.wsUrl = this.wsStage.url;

    // ------------------------------------------------------------- functions
    const envValues: Record<EnvKey, string> = {
      TABLE_NAME: table.tableName,
      EVENT_BUS_NAME: this.bus.eventBusName,
      WEBSOCKET_MANAGEMENT_ENDPOINT: this.wsStage.callbackUrl,
      JWT_SECRET_ARN: jwtSecret.secretArn,
      JWT_TTL_SECONDS: String(settings.jwtTtlSeconds),
    };

    const fns = {} as Record<FunctionName, lambda.Function>;
    for (const name of FUNCTION_NAMES) {
      const spec = FUNCTION_SPECS[name];
      const sizing = fnSizing(name);
      const cid = constructIdFor(name);

      const logGroup = new logs.LogGroup(this, `${cid}Logs`, {
        retention: settings.logRetentionDays as logs.RetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // One role per function, with no managed policy: logging to its own log group only.
      const role = new iam.Role(this, `${cid}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of the ${name} function`,
      });
      logGroup.grantWrite(role);

      const environment: Record<string, string> = { RUST_LOG: 'info' };
      for (const key of spec.env) environment[key] = envValues[key];

      const fn = new RustFunction(this, cid, {
        manifestPath: manifestPathFor(settings.functionsDir, name),
        architecture: settings.architecture,
        memorySize: sizing.memoryMb,
        timeout: seconds(sizing.timeoutSeconds),
        description: `notes suite: ${name}`,
        environment,
        role,
        logGroup,
        tracing: lambda.Tracing.ACTIVE,
        loggingFormat: lambda.LoggingFormat.TEXT,
      });

      if (spec.tableActions.length > 0) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: spec.tableActions, resources: [table.tableArn] }),
        );
      }
      if (spec.putEvents) this.bus.grantPutEventsTo(fn);
      if (spec.readSecret) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [jwtSecret.secretArn] }),
        );
      }
      NagSuppressions.addResourceSuppressions(
        role,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason:
              'X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions, so AWS requires Resource "*".',
            appliesTo: ['Resource::*'],
          },
        ],
        true,
      );
      fns[name] = fn;
    }
    this.functions = fns;

    // notify pushes to WebSocket clients: PostToConnection on this API's stage only.
    fns.notify.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['execute-api:ManageConnections'],
        resources: [
          this.formatArn({
            service: 'execute-api',
            resource: this.wsApi.apiId,
            resourceName: `${wsStageName}/POST/@connections/*`,
          }),
        ],
      }),
    );
    NagSuppressions.addResourceSuppressions(
      fns.notify.role!,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'notify may post to any open connection of this WebSocket API stage; connection ids are only known at run time, hence the /@connections/* wildcard (limited to POST on this API and stage).',
          appliesTo: [
            {
              regex:
                '/^Resource::arn:<AWS::Partition>:execute-api:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|[0-9]+):<WebSocketApi[0-9A-F]+>\\/prod\\/POST\\/@connections\\/\\*$/g',
            },
          ],
        },
      ],
      true,
    );

    // ---------------------------------------------------------------- routes
    const wsRoutes: Array<[string, FunctionName, boolean]> = [
      ['$connect', 'connect', false],
      ['$disconnect', 'disconnect', false],
      ['$default', 'ws-default', true],
    ];
    for (const [routeKey, fnName, twoWay] of wsRoutes) {
      this.wsApi.addRoute(routeKey, {
        integration: new integrations.WebSocketLambdaIntegration(`${constructIdFor(fnName)}Integration`, fns[fnName]),
        // $default answers {"type":"pong"} to a ping: a two-way route sends the Lambda's result back.
        returnResponse: twoWay,
      });
    }
    NagSuppressions.addResourceSuppressions(
      this.wsApi,
      [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'The $connect route checks the JWT from the ?token= query parameter in the connect Lambda (contract section 2) and refuses the handshake with 401; other routes only exist on an accepted connection.',
        },
      ],
      true,
    );

    // ---------------------------------------------------------------- http api
    const allowOrigins = [props.siteOrigin, ...settings.allowedOrigins];
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Notes suite REST API',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins,
        allowMethods: [
          apigwv2.CorsHttpMethod.GET,
          apigwv2.CorsHttpMethod.POST,
          apigwv2.CorsHttpMethod.PUT,
          apigwv2.CorsHttpMethod.DELETE,
          apigwv2.CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
        maxAge: Duration.hours(1),
      },
    });
    const httpLogGroup = new logs.LogGroup(this, 'HttpApiAccessLogs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.httpStage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: settings.httpThrottle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(httpLogGroup),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            httpMethod: '$context.httpMethod',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    for (const route of HTTP_ROUTES) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: new integrations.HttpLambdaIntegration(
          `${constructIdFor(route.fn)}Integration`,
          fns[route.fn],
        ),
      });
    }
    NagSuppressions.addResourceSuppressions(
      this.httpApi,
      [{ id: 'AwsSolutions-APIG4', reason: AUTH_IN_LAMBDA_REASON }],
      true,
    );
    // $default stage URL: https://<api-id>.execute-api.<region>.amazonaws.com (no trailing slash).
    this.httpApiUrl = `https://${this.httpApi.apiId}.execute-api.${this.region}.${this.urlSuffix}`;

    // ------------------------------------------------------------------ rules
    const rules = topology.rules;
    new events.Rule(this, 'NoteCreatedRule', {
      description: 'note-created -> note-created queue -> save-note',
      eventBus: this.bus,
      eventPattern: toCdkEventPattern(rules.noteCreatedToQueue.eventPattern),
      targets: [new targets.SqsQueue(this.noteCreatedQueue)],
    });
    new events.Rule(this, 'NoteResultsRule', {
      description: 'note-saved/failed/updated/deleted -> notify',
      eventBus: this.bus,
      eventPattern: toCdkEventPattern(rules.noteResultsToNotify.eventPattern),
      targets: [
        new targets.LambdaFunction(fns.notify, {
          retryAttempts: rules.noteResultsToNotify.retryPolicy.maximumRetryAttempts,
          maxEventAge: seconds(rules.noteResultsToNotify.retryPolicy.maximumEventAgeSeconds),
          deadLetterQueue: this.notifyDlq,
        }),
      ],
    });

    // The rule's retry policy and DLQ cover failures to *invoke* notify. When notify itself fails
    // (a push failed transiently), Lambda's asynchronous invocation retries it, then sends the event
    // to the same DLQ, so an event is never dropped either way (the local stack mirrors this).
    fns.notify.configureAsyncInvoke({
      retryAttempts: NOTIFY_ASYNC_RETRIES,
      maxEventAge: seconds(rules.noteResultsToNotify.retryPolicy.maximumEventAgeSeconds),
      onFailure: new destinations.SqsDestination(this.notifyDlq),
    });

    const esm = topology.saveNoteEventSource;
    fns['save-note'].addEventSource(
      new SqsEventSource(this.noteCreatedQueue, {
        batchSize: esm.batchSize,
        maxBatchingWindow: seconds(esm.maximumBatchingWindowSeconds),
        reportBatchItemFailures: esm.reportBatchItemFailures,
      }),
    );

    // ------------------------------------------------------------- monitoring
    new Monitoring(this, 'Monitoring', {
      functions: fns,
      noteCreatedQueue: this.noteCreatedQueue,
      noteCreatedDlq: this.noteCreatedDlq,
      notifyDlq: this.notifyDlq,
      httpApi: this.httpApi,
      wsApi: this.wsApi,
      wsStageName,
      // A note-created message older than five minutes means save-note is not keeping up or is failing.
      oldestMessageAgeThresholdSeconds: 300,
    });

    // ---------------------------------------------------------------- outputs
    new CfnOutput(this, 'HttpApiUrl', { value: this.httpApiUrl, description: 'REST API base URL' });
    new CfnOutput(this, 'WebSocketUrl', { value: this.wsUrl, description: 'WebSocket URL (add ?token=<JWT>)' });
    new CfnOutput(this, 'WebSocketManagementEndpoint', { value: this.wsStage.callbackUrl });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    new CfnOutput(this, 'NoteCreatedQueueUrl', { value: this.noteCreatedQueue.queueUrl });
    // What an operator needs to inspect dead letters and to replay events.
    new CfnOutput(this, 'EventBusArn', { value: this.bus.eventBusArn });
    new CfnOutput(this, 'EventArchiveArn', { value: archive.archiveArn, description: 'for aws events start-replay' });
    new CfnOutput(this, 'NoteCreatedDlqUrl', { value: this.noteCreatedDlq.queueUrl });
    new CfnOutput(this, 'NotifyDlqUrl', { value: this.notifyDlq.queueUrl });
  }
}
