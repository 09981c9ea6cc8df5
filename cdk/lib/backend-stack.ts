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
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  AppSettings,
  DeadLetterQueue,
  EVENT_TYPES,
  FunctionName,
  Topology,
  TopologyRule,
  WorkQueueKey,
  deadLetterQueueOf,
  functionTriggeredBy,
  loadEventSchema,
  seconds,
  streamMappings,
  toCdkEventPattern,
  webSocketRoutes,
  workQueues,
} from './config';
import { createFunctions } from './functions';
import { createHttpApi } from './http-api';
import { Monitoring, QueueAgeAlarm, StreamAgeAlarm } from './monitoring';
import { constructIdFor, constructIdForKey, kebab, resourceName } from './naming';

/** Lambda's asynchronous retries of a failed notify invocation (its default; 3 attempts in all). */
export const NOTIFY_ASYNC_RETRIES = 2;

/**
 * The alarm on each work queue's oldest message (ApproximateAgeOfOldestMessage, the Maximum over a
 * minute): above how many seconds, for how many minutes in a row, and what it means.
 */
export interface OldestMessageAgeLimit {
  readonly seconds: number;
  readonly minutes: number;
  /** What a late message means (`notes are saved late`). */
  readonly late: string;
}
/** Each work queue's limit (a work queue of topology.json without one is refused at synth time). */
export const OLDEST_MESSAGE_AGE_ALARMS: Readonly<Record<WorkQueueKey, OldestMessageAgeLimit>> = {
  noteCreated: { seconds: 300, minutes: 3, late: 'notes are saved, and their owners told, late' },
  // A public event waits there for its push to one connection shard: a minute is already late.
  broadcastShards: { seconds: 60, minutes: 1, late: 'live-feed pushes are late' },
};

/**
 * The alarm on the IteratorAge of each stream mapping's function (the age, when the function got
 * it, of the last record of a batch; the Maximum over a minute): above how many seconds, for how
 * many minutes in a row, and what it means. A stream mapping of topology.json without one is refused.
 */
export interface IteratorAgeLimit {
  readonly seconds: number;
  readonly minutes: number;
  readonly late: string;
}
export const ITERATOR_AGE_ALARMS: Readonly<Record<string, IteratorAgeLimit>> = {
  // publish-changes normally gets a record well under a second after its write (Lambda polls each
  // shard about four times a second, no batching window). Over 60 s for 5 minutes in a row means the
  // stream is not draining: the function keeps failing (a batch retried, halved, up to
  // maximumRetryAttempts times, holds its shard back meanwhile) or is throttled. One slow minute (a
  // cold start, one retried batch) does not page; five are still far from the hour
  // (maximumRecordAgeSeconds) after which records are given up to the on-failure queue, and from the
  // stream's 24 hours, so there is time to act before any event is lost.
  noteChanges: { seconds: 60, minutes: 5, late: "note events are published late (the owner's page and the live feed lag)" },
};

export interface BackendStackProps extends StackProps {
  readonly topology: Topology;
  readonly settings: AppSettings;
  readonly table: dynamodb.ITable;
  readonly jwtSecret: secretsmanager.ISecret;
  /** Origins of the CloudFront-hosted frontend (its own domain, and the custom one if any), always allowed by CORS. */
  readonly siteOrigins: string[];
}

/**
 * The stateless backend: event bus, archive, queues and rules, every Lambda function, the HTTP API,
 * the WebSocket API, and their alarms and dashboard.
 */
export class BackendStack extends Stack {
  public readonly bus: events.EventBus;
  /** Every queue, by its key in topology.json's `queues`: the work queues, their DLQs, the rules' DLQs. */
  public readonly queues: Readonly<Record<string, sqs.Queue>>;
  public readonly noteCreatedQueue: sqs.Queue;
  public readonly noteCreatedDlq: sqs.Queue;
  /** Events the note-created rule could not deliver to the queue. */
  public readonly noteCreatedRuleDlq: sqs.Queue;
  public readonly notifyDlq: sqs.Queue;
  public readonly functions: Record<FunctionName, lambda.Function>;
  public readonly httpApi: apigwv2.HttpApi;
  public readonly httpStage: apigwv2.HttpStage;
  public readonly wsApi: apigwv2.WebSocketApi;
  public readonly wsStage: apigwv2.WebSocketStage;
  public readonly monitoring: Monitoring;
  /** https URL of the HTTP API (no trailing slash). */
  public readonly httpApiUrl: string;
  /** wss://<api>.execute-api.<region>.amazonaws.com/<stage> */
  public readonly wsUrl: string;

  constructor(scope: Construct, id: string, props: BackendStackProps) {
    super(scope, id, props);
    const { topology, settings, table, jwtSecret } = props;
    const stage = settings.stage;
    const name = (suffix: string) => resourceName(stage, suffix);

    // ---------------------------------------------------------------- events
    this.bus = new events.EventBus(this, 'EventBus', {
      eventBusName: name('bus'),
      description: `Note events (source ${topology.eventSource})`,
    });
    const archive = this.bus.archive('AllEventsArchive', {
      archiveName: name('archive'),
      description: `Note events kept for replay (${(topology.archive.eventPattern['detail-type'] ?? ['all']).join(', ')})`,
      eventPattern: toCdkEventPattern(topology.archive.eventPattern),
      retention: Duration.days(topology.archive.retentionDays),
    });

    // The event catalog in EventBridge's schema registry, so consumers can discover the events and
    // generate code bindings. The content is the committed schema files, the same ones the Rust
    // tests hold every emitted event to. Named `source@detail-type`, as discovered schemas are.
    const registry = new eventschemas.CfnRegistry(this, 'EventSchemaRegistry', {
      registryName: name('events'),
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
    const deadLetterQueue = (cid: string, queueName: string, retentionSeconds: number, whose: string) => {
      const dlq = new sqs.Queue(this, cid, {
        queueName,
        retentionPeriod: seconds(retentionSeconds),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      NagSuppressions.addResourceSuppressions(dlq, [
        {
          id: 'AwsSolutions-SQS3',
          reason: `This queue is a dead-letter queue: the DLQ of ${whose} (cdk-nag only recognises DLQs named in another queue's redrive policy).`,
        },
      ]);
      return dlq;
    };
    const queues: Record<string, sqs.Queue> = {};
    // Each work queue (note-created, broadcast-shards) and its DLQ, which takes a message after
    // maxReceiveCount receives: `notes-<stage>-<queue>` and `notes-<stage>-<queue>-dlq`, the queue's
    // key in kebab case (noteCreated: notes-<stage>-note-created, as the local stack names it too).
    for (const [key, settings] of workQueues(topology)) {
      const cid = constructIdForKey(key);
      const dlqKey = deadLetterQueueOf(key);
      const dlq = new sqs.Queue(this, `${cid}Dlq`, {
        queueName: name(`${kebab(key)}-dlq`),
        retentionPeriod: seconds((q as unknown as Record<string, DeadLetterQueue>)[dlqKey].retentionSeconds),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      queues[dlqKey] = dlq;
      queues[key] = new sqs.Queue(this, `${cid}Queue`, {
        queueName: name(kebab(key)),
        visibilityTimeout: seconds(settings.visibilityTimeoutSeconds),
        receiveMessageWaitTime: seconds(settings.receiveWaitTimeSeconds),
        retentionPeriod: seconds(settings.retentionSeconds),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount: settings.maxReceiveCount },
      });
    }
    this.noteCreatedQueue = queues.noteCreated;
    this.noteCreatedDlq = queues[deadLetterQueueOf('noteCreated')];
    this.noteCreatedRuleDlq = deadLetterQueue(
      'NoteCreatedRuleDlq',
      name('note-created-rule-dlq'),
      q.noteCreatedRuleDlq.retentionSeconds,
      "the EventBridge rule target 'note-created queue'",
    );
    this.notifyDlq = deadLetterQueue(
      'NotifyDlq',
      name('notify-dlq'),
      q.notifyDlq.retentionSeconds,
      "the rule noteResultsToNotify's target and of that function's asynchronous invocations",
    );
    queues.noteCreatedRuleDlq = this.noteCreatedRuleDlq;
    queues.notifyDlq = this.notifyDlq;
    // Each stream mapping's on-failure queue (noteChangesFailed: notes-<stage>-note-changes-failed):
    // Lambda sends it the description of a batch it gave up on (shard, first and last sequence
    // numbers), not the records, which stay readable in the stream for 24 hours.
    for (const [streamKey, mapping] of streamMappings(topology)) {
      const key = mapping.onFailure;
      queues[key] = deadLetterQueue(
        constructIdForKey(key),
        name(kebab(key)),
        (q as unknown as Record<string, DeadLetterQueue>)[key].retentionSeconds,
        `the stream mapping ${streamKey} (its on-failure destination)`,
      );
    }
    this.queues = queues;
    const queueOf = (key: string): sqs.Queue => {
      if (!queues[key]) throw new Error(`topology.json: no queue '${key}'`);
      return queues[key];
    };

    // ------------------------------------------------------------- websocket
    this.wsApi = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      apiName: name('ws'),
      description: 'Notes suite live updates',
    });
    const wsStageName = 'prod';
    const wsLogGroup = new logs.LogGroup(this, 'WebSocketAccessLogs', {
      logGroupName: `/aws/apigateway/${name('ws-access')}`,
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
    const fns = createFunctions(this, {
      settings,
      topology,
      table,
      bus: this.bus,
      jwt: { secret: jwtSecret },
      sendQueues: { queues },
      websocketManagementEndpoint: this.wsStage.callbackUrl,
    });
    this.functions = fns;

    // Functions declared with manageConnections (notify, broadcast) push to WebSocket clients:
    // PostToConnection on this API's stage only.
    for (const [fnName, declared] of Object.entries(topology.functions)) {
      if (!declared.manageConnections) continue;
      fns[fnName].addToRolePolicy(
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
        fns[fnName].role!,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason: `${fnName} may post to any open connection of this WebSocket API stage; connection ids are only known at run time, hence the /@connections/* wildcard (limited to POST on this API and stage).`,
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
    }

    // ---------------------------------------------------------------- routes
    for (const { routeKey, fn: fnName } of webSocketRoutes(topology)) {
      this.wsApi.addRoute(routeKey, {
        integration: new integrations.WebSocketLambdaIntegration(`${constructIdFor(fnName)}Integration`, fns[fnName]),
        // $default answers {"type":"pong"} to a ping: a two-way route sends the Lambda's result back.
        returnResponse: routeKey === '$default',
      });
    }
    NagSuppressions.addResourceSuppressions(
      this.wsApi,
      [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'The $connect route checks the JWT the client offers as the bearer.<JWT> subprotocol (Sec-WebSocket-Protocol) in the connect Lambda (docs/websocket.md, Connecting) and refuses the handshake with 401; other routes only exist on an accepted connection.',
        },
      ],
      true,
    );

    // ---------------------------------------------------------------- http api
    const http = createHttpApi(this, {
      settings,
      topology,
      functions: fns,
      allowOrigins: [...props.siteOrigins, ...settings.allowedOrigins],
    });
    this.httpApi = http.api;
    this.httpStage = http.stage;
    this.httpApiUrl = http.url;

    // ------------------------------------------------------------------ rules
    const rules = topology.rules;
    const ruleTargetQueue = (rule: TopologyRule): sqs.Queue => {
      if (rule.target === undefined) throw new Error(`topology.json: rule ${JSON.stringify(rule.eventPattern)} has no target queue`);
      return queueOf(rule.target);
    };
    // The function the results rule invokes (notify).
    const ruleTargetName = functionTriggeredBy(topology, { rule: 'noteResultsToNotify' });
    const ruleTarget = fns[ruleTargetName];
    const noteCreatedRule = new events.Rule(this, 'NoteCreatedRule', {
      ruleName: name('note-created-to-queue'),
      description: 'note-created -> note-created queue -> save-note',
      eventBus: this.bus,
      eventPattern: toCdkEventPattern(rules.noteCreatedToQueue.eventPattern),
      // A failed delivery to the queue (throttled, queue policy broken) is retried, then kept in its DLQ.
      targets: [
        new targets.SqsQueue(ruleTargetQueue(rules.noteCreatedToQueue), {
          retryAttempts: rules.noteCreatedToQueue.retryPolicy.maximumRetryAttempts,
          maxEventAge: seconds(rules.noteCreatedToQueue.retryPolicy.maximumEventAgeSeconds),
          deadLetterQueue: queueOf(rules.noteCreatedToQueue.deadLetterQueue),
        }),
      ],
    });
    const noteResultsRule = new events.Rule(this, 'NoteResultsRule', {
      ruleName: name('note-results-to-notify'),
      description: 'note-saved/failed/updated/deleted -> notify',
      eventBus: this.bus,
      eventPattern: toCdkEventPattern(rules.noteResultsToNotify.eventPattern),
      targets: [
        new targets.LambdaFunction(ruleTarget, {
          retryAttempts: rules.noteResultsToNotify.retryPolicy.maximumRetryAttempts,
          maxEventAge: seconds(rules.noteResultsToNotify.retryPolicy.maximumEventAgeSeconds),
          deadLetterQueue: queueOf(rules.noteResultsToNotify.deadLetterQueue),
        }),
      ],
    });

    // The rule's retry policy and DLQ cover failures to *invoke* notify. When notify itself fails
    // (a push failed transiently), Lambda's asynchronous invocation retries it, then sends the event
    // to the same DLQ, so an event is never dropped either way (the local stack mirrors this).
    ruleTarget.configureAsyncInvoke({
      retryAttempts: NOTIFY_ASYNC_RETRIES,
      maxEventAge: seconds(rules.noteResultsToNotify.retryPolicy.maximumEventAgeSeconds),
      onFailure: new destinations.SqsDestination(this.notifyDlq),
    });

    // Each work queue's event source hands its batches to the function its trigger names (the
    // note-created queue to save-note, the broadcast-shards queue to broadcast); it also grants that
    // function what consuming the queue takes (receive, delete, change visibility) on that queue.
    for (const [queueKey, esm] of Object.entries(topology.eventSourceMappings)) {
      fns[functionTriggeredBy(topology, { queue: queueKey })].addEventSource(
        new SqsEventSource(queueOf(queueKey), {
          batchSize: esm.batchSize,
          maxBatchingWindow: seconds(esm.maximumBatchingWindowSeconds),
          reportBatchItemFailures: esm.reportBatchItemFailures,
          // At most this many concurrent invocations drain the queue: a burst queues up instead of
          // taking the account's concurrency (or throttling the API's functions).
          maxConcurrency: esm.maximumConcurrency,
        }),
      );
    }

    // The table stream's event source hands its records to the function whose trigger names the
    // mapping (noteChanges to publish-changes), as the mapping declares: only the records its filter
    // matches (note items), retried from the first record the function reports failed, the batch
    // halved on a function error, and given up to its on-failure queue after its retries or its
    // record age. It grants that function the stream reads (DescribeStream, GetRecords,
    // GetShardIterator on the stream's ARN; ListStreams, which takes no resource, on *) and
    // SendMessage on the on-failure queue, and nothing on the table's items.
    for (const [streamKey, m] of streamMappings(topology)) {
      const fnName = functionTriggeredBy(topology, { stream: streamKey });
      if (!table.tableStreamArn) throw new Error(`topology.json: streams '${streamKey}': the table has no stream (table.stream)`);
      fns[fnName].addEventSource(
        new DynamoEventSource(table, {
          startingPosition: lambda.StartingPosition[m.startingPosition],
          batchSize: m.batchSize,
          maxBatchingWindow: seconds(m.maximumBatchingWindowSeconds),
          reportBatchItemFailures: m.reportBatchItemFailures,
          bisectBatchOnError: m.bisectBatchOnFunctionError,
          retryAttempts: m.maximumRetryAttempts,
          maxRecordAge: seconds(m.maximumRecordAgeSeconds),
          filters: [lambda.FilterCriteria.filter(m.filterPattern)],
          onFailure: new SqsDlq(queueOf(m.onFailure)),
        }),
      );
      NagSuppressions.addResourceSuppressions(
        fns[fnName].role!,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason: `${fnName} is triggered by the table's stream: Lambda's event source needs dynamodb:ListStreams, which supports no resource-level permission (only "*") and returns stream ARNs, no data; the stream's records are read only on its own ARN.`,
            appliesTo: ['Resource::*'],
          },
        ],
        true,
      );
    }

    // ------------------------------------------------------------- monitoring
    const workQueueAlarms: QueueAgeAlarm[] = workQueues(topology).map(([key]) => {
      const age = (OLDEST_MESSAGE_AGE_ALARMS as Readonly<Record<string, OldestMessageAgeLimit | undefined>>)[key];
      if (!age) throw new Error(`topology.json: work queue '${key}' has no alarm in OLDEST_MESSAGE_AGE_ALARMS`);
      const consumer = Object.keys(fns).find((fnName) => topology.functions[fnName].trigger.queue === key) ?? 'its consumer';
      return {
        id: constructIdForKey(key),
        what: kebab(key),
        queue: queueOf(key),
        thresholdSeconds: age.seconds,
        evaluationPeriods: age.minutes,
        meaning: `${consumer} is failing or not keeping up, so ${age.late}`,
      };
    });
    const streamAlarms: StreamAgeAlarm[] = streamMappings(topology).map(([key, m]) => {
      const limit = ITERATOR_AGE_ALARMS[key];
      if (!limit) throw new Error(`topology.json: stream mapping '${key}' has no alarm in ITERATOR_AGE_ALARMS`);
      // The alarm must fire (records `seconds` old for `minutes` minutes) well before they are given up.
      if (limit.seconds + 60 * limit.minutes >= m.maximumRecordAgeSeconds) {
        throw new Error(`ITERATOR_AGE_ALARMS '${key}' fires after the mapping's maximumRecordAgeSeconds (${m.maximumRecordAgeSeconds})`);
      }
      const fnName = functionTriggeredBy(topology, { stream: key });
      return {
        id: constructIdFor(fnName),
        what: fnName,
        fn: fns[fnName],
        thresholdSeconds: limit.seconds,
        evaluationPeriods: limit.minutes,
        meaning: `${fnName} is failing or not keeping up with the table's stream, so ${limit.late}; records older than ${m.maximumRecordAgeSeconds} s are given up to the ${kebab(m.onFailure)} queue`,
      };
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage,
      functions: fns,
      workQueues: workQueueAlarms,
      streams: streamAlarms,
      deadLetterQueues: [
        ...workQueues(topology).map(([key]) => ({
          id: `${constructIdForKey(key)}Dlq`,
          what: `The ${kebab(key)} DLQ`,
          queue: queueOf(deadLetterQueueOf(key)),
        })),
        { id: 'NoteCreatedRuleDlq', what: "The note-created rule's DLQ", queue: this.noteCreatedRuleDlq },
        { id: 'NotifyDlq', what: 'The notify DLQ', queue: this.notifyDlq },
        ...streamMappings(topology).map(([streamKey, m]) => ({
          id: constructIdForKey(m.onFailure),
          what: `The on-failure queue of the ${streamKey} stream mapping`,
          queue: queueOf(m.onFailure),
          meaning:
            `${functionTriggeredBy(topology, { stream: streamKey })} gave up on stream records (after its retries, or too old): their events were not published. ` +
            'Each message names the shard and sequence numbers; read those records from the stream (kept 24 h) and publish them once fixed.',
        })),
      ],
      rules: [
        { id: 'NoteCreatedRule', rule: noteCreatedRule },
        { id: 'NoteResultsRule', rule: noteResultsRule },
      ],
      bus: this.bus,
      httpApi: this.httpApi,
      wsApi: this.wsApi,
      wsStageName,
      // The functions with an on-failure destination: notify (its asynchronous invocations) and each
      // stream mapping's function.
      destinationFunctions: [
        { id: constructIdFor(ruleTargetName), name: ruleTargetName, fn: ruleTarget, destination: 'the notify DLQ', lost: 'the event is lost' },
        ...streamMappings(topology).map(([streamKey, m]) => {
          const fnName = functionTriggeredBy(topology, { stream: streamKey });
          return {
            id: constructIdFor(fnName),
            name: fnName,
            fn: fns[fnName],
            destination: `the ${kebab(m.onFailure)} queue`,
            lost: 'which records were given up is not recorded anywhere (they stay in the stream for 24 hours)',
          };
        }),
      ],
      queueConsumerName: functionTriggeredBy(topology, { queue: 'noteCreated' }),
      alarmEmail: settings.alarmEmail,
    });

    // ---------------------------------------------------------------- outputs
    new CfnOutput(this, 'HttpApiUrl', { value: this.httpApiUrl, description: 'REST API base URL' });
    new CfnOutput(this, 'WebSocketUrl', { value: this.wsUrl, description: 'WebSocket URL (offer the subprotocols notes.v1 and bearer.<JWT>)' });
    new CfnOutput(this, 'WebSocketManagementEndpoint', { value: this.wsStage.callbackUrl });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    for (const [key] of workQueues(topology)) {
      new CfnOutput(this, `${constructIdForKey(key)}QueueUrl`, { value: queueOf(key).queueUrl });
    }
    // What an operator needs to inspect dead letters and to replay events.
    new CfnOutput(this, 'EventBusArn', { value: this.bus.eventBusArn });
    new CfnOutput(this, 'EventArchiveArn', { value: archive.archiveArn, description: 'for aws events start-replay' });
    for (const [key] of workQueues(topology)) {
      new CfnOutput(this, `${constructIdForKey(key)}DlqUrl`, { value: queueOf(deadLetterQueueOf(key)).queueUrl });
    }
    new CfnOutput(this, 'NoteCreatedRuleDlqUrl', { value: this.noteCreatedRuleDlq.queueUrl });
    new CfnOutput(this, 'NotifyDlqUrl', { value: this.notifyDlq.queueUrl });
    for (const [, m] of streamMappings(topology)) {
      new CfnOutput(this, `${constructIdForKey(m.onFailure)}Url`, { value: queueOf(m.onFailure).queueUrl });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'subscribe to be alerted' });
  }
}
