import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { constructIdFor, kebab, resourceName } from './naming';

export { kebab };

/** The EMF namespace, dimension and metric the handlers write (shared/src/telemetry.rs). */
export const APP_METRICS = {
  namespace: 'NotesSuite',
  deadLettered: 'NoteRecordsDeadLettered',
  serviceDimension: 'service',
} as const;

/** A work queue whose oldest message must not wait longer than `thresholdSeconds`. */
export interface QueueAgeAlarm {
  /** Construct id prefix of the alarm (`<id>OldestMessageAge`). */
  readonly id: string;
  /** The queue, as its messages are called (`note-created`). */
  readonly what: string;
  readonly queue: sqs.IQueue;
  /** The Maximum age (seconds) over a minute above which the alarm fires ... */
  readonly thresholdSeconds: number;
  /** ... for this many minutes in a row. */
  readonly evaluationPeriods: number;
  /** What an old message means, for the alarm's description. */
  readonly meaning: string;
}

/** A function a table stream mapping feeds, whose records must not wait longer than `thresholdSeconds`. */
export interface StreamAgeAlarm {
  /** Construct id prefix of the alarm (`<id>IteratorAge`): the function's. */
  readonly id: string;
  /** The function, by name. */
  readonly what: string;
  readonly fn: lambda.IFunction;
  /** The Maximum IteratorAge (seconds) over a minute above which the alarm fires ... */
  readonly thresholdSeconds: number;
  /** ... for this many minutes in a row. */
  readonly evaluationPeriods: number;
  /** What old records mean, for the alarm's description. */
  readonly meaning: string;
}

/** A function with an on-failure destination (asynchronous invocations, or a stream event source). */
export interface DestinationFunction {
  /** Construct id prefix of the alarm (`<id>DestinationDeliveryFailures`). */
  readonly id: string;
  readonly name: string;
  readonly fn: lambda.IFunction;
  /** Its destination, for the alarm's description (`the notify DLQ`). */
  readonly destination: string;
  /** What is lost when the destination cannot be reached (`the event is lost`). */
  readonly lost: string;
}

export interface MonitoringProps {
  readonly stage: string;
  readonly functions: Record<string, lambda.IFunction>;
  /** Every work queue: its depth and age on the dashboard, and an alarm on its age. */
  readonly workQueues: ReadonlyArray<QueueAgeAlarm>;
  /** Every function a table stream mapping feeds: an alarm on its IteratorAge. */
  readonly streams: ReadonlyArray<StreamAgeAlarm>;
  /**
   * Every dead-letter (or on-failure) queue, by what it holds (for the "not empty" alarms), and what a
   * message there means when it is not the usual (an event that could not be processed, to redrive).
   */
  readonly deadLetterQueues: ReadonlyArray<{
    readonly id: string;
    readonly what: string;
    readonly queue: sqs.IQueue;
    readonly meaning?: string;
  }>;
  readonly rules: ReadonlyArray<{ readonly id: string; readonly rule: events.IRule }>;
  readonly bus: events.IEventBus;
  readonly httpApi: apigwv2.IHttpApi;
  readonly wsApi: apigwv2.IWebSocketApi;
  readonly wsStageName: string;
  /** The functions with an on-failure destination (notify's asynchronous invocations, each stream mapping's function). */
  readonly destinationFunctions: ReadonlyArray<DestinationFunction>;
  /** The name of the function consuming the note-created queue: the `service` of its metrics. */
  readonly queueConsumerName: string;
  /** Subscribed to the alarm topic by e-mail when given. */
  readonly alarmEmail?: string;
}

/**
 * Alarms and one CloudWatch dashboard. Every alarm notifies the SNS topic `notes-<stage>-alarms`
 * when it fires and when it recovers; subscribe an address with `-c alarmEmail=…` (or anything
 * else SNS delivers to). The topic is encrypted with a customer managed key, because CloudWatch
 * can only publish to encrypted topics whose key policy lets it use the key.
 */
export class Monitoring extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly topic: sns.Topic;
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const period = Duration.minutes(1);
    const name = (suffix: string) => resourceName(props.stage, suffix);

    const key = new kms.Key(this, 'AlarmTopicKey', {
      alias: `alias/${name('alarms')}`,
      description: `Encrypts the ${name('alarms')} SNS topic`,
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to the topic: they must be able to use its key.
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      topicName: name('alarms'),
      displayName: `Notes suite (${props.stage}) alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const action = new cwActions.SnsAction(this.topic);

    const alarm = (cid: string, options: Omit<cloudwatch.AlarmProps, 'alarmName'>) => {
      const a = new cloudwatch.Alarm(this, cid, { alarmName: name(kebab(cid)), ...options });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };
    const anyOf = (metric: cloudwatch.IMetric, description: string, evaluationPeriods = 1) => ({
      alarmDescription: description,
      metric,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    for (const dlq of props.deadLetterQueues) {
      alarm(
        `${dlq.id}NotEmpty`,
        anyOf(
          dlq.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
          `${dlq.what} has messages: ${dlq.meaning ?? 'events that could not be processed (inspect, fix, redrive).'}`,
        ),
      );
    }
    for (const q of props.workQueues) {
      alarm(`${q.id}OldestMessageAge`, {
        alarmDescription: `A ${q.what} message waited more than ${q.thresholdSeconds} s: ${q.meaning}.`,
        metric: q.queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
        threshold: q.thresholdSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: q.evaluationPeriods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    // IteratorAge is in milliseconds: how old the last record of a batch was when the function got it.
    // The Maximum, so one shard falling behind shows (thresholds: ITERATOR_AGE_ALARMS, backend-stack.ts).
    for (const st of props.streams) {
      alarm(`${st.id}IteratorAge`, {
        alarmDescription: `${st.what} got stream records more than ${st.thresholdSeconds} s old for ${st.evaluationPeriods} minutes: ${st.meaning}.`,
        metric: st.fn.metric('IteratorAge', { period, statistic: 'Maximum' }),
        threshold: st.thresholdSeconds * 1000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: st.evaluationPeriods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    // save-note's own count of records failing their last receive (EMF): it fires in the minute the
    // record fails, before the DLQ's visible-messages metric shows it.
    alarm(
      'NoteRecordsDeadLettered',
      anyOf(
        new cloudwatch.Metric({
          namespace: APP_METRICS.namespace,
          metricName: APP_METRICS.deadLettered,
          dimensionsMap: { [APP_METRICS.serviceDimension]: props.queueConsumerName },
          period,
          statistic: 'Sum',
        }),
        `${props.queueConsumerName} gave up on a note-created record (its last receive failed): its owner was sent note-failed and it is on its way to the DLQ.`,
      ),
    );
    alarm(
      'HttpApi5xx',
      anyOf(
        props.httpApi.metricServerError({ period, statistic: 'Sum' }),
        'The HTTP API answered 5xx: a function failed or timed out, or an integration is broken.',
      ),
    );
    for (const { id: ruleId, rule } of props.rules) {
      alarm(
        `${ruleId}FailedInvocations`,
        anyOf(
          new cloudwatch.Metric({
            namespace: 'AWS/Events',
            metricName: 'FailedInvocations',
            // A rule on a custom bus reports with both dimensions.
            dimensionsMap: { EventBusName: props.bus.eventBusName, RuleName: rule.ruleName },
            period,
            statistic: 'Sum',
          }),
          `EventBridge failed permanently to deliver events of the rule ${ruleId} to its target.`,
        ),
      );
    }
    for (const d of props.destinationFunctions) {
      alarm(
        `${d.id}DestinationDeliveryFailures`,
        anyOf(
          d.fn.metric('DestinationDeliveryFailures', { period, statistic: 'Sum' }),
          `Lambda could not send what ${d.name} failed on to its on-failure destination (${d.destination}): ${d.lost}.`,
        ),
      );
    }

    const fnWidgets: cloudwatch.IWidget[] = [];
    for (const [fnName, fn] of Object.entries(props.functions)) {
      const cid = constructIdFor(fnName);
      alarm(`${cid}Errors`, anyOf(fn.metricErrors({ period, statistic: 'Sum' }), `The ${fnName} function reported errors.`));
      alarm(`${cid}Throttles`, anyOf(fn.metricThrottles({ period, statistic: 'Sum' }), `The ${fnName} function was throttled.`));
      fnWidgets.push(
        new cloudwatch.GraphWidget({
          title: fnName,
          width: 8,
          left: [fn.metricInvocations({ period }), fn.metricErrors({ period }), fn.metricThrottles({ period })],
          right: [fn.metricDuration({ period, statistic: 'p99' })],
        }),
      );
    }

    const apiMetric = (metricName: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.httpApi.apiId },
        period,
        statistic,
      });
    const wsMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.wsApi.apiId, Stage: props.wsStageName },
        period,
        statistic: 'Sum',
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: name('dashboard'),
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'HTTP API',
        width: 8,
        left: [apiMetric('Count'), apiMetric('4xx'), apiMetric('5xx')],
        right: [apiMetric('Latency', 'p99')],
      }),
      new cloudwatch.GraphWidget({
        title: 'WebSocket API',
        width: 8,
        left: [wsMetric('ConnectCount'), wsMetric('MessageCount'), wsMetric('IntegrationError')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Queues',
        width: 8,
        left: [
          ...props.workQueues.map((q) => q.queue.metricApproximateNumberOfMessagesVisible({ period })),
          ...props.deadLetterQueues.map((d) => d.queue.metricApproximateNumberOfMessagesVisible({ period })),
        ],
        right: props.workQueues.map((q) => q.queue.metricApproximateAgeOfOldestMessage({ period })),
      }),
    );
    if (props.streams.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Table stream: iterator age (ms)',
          width: 8,
          left: props.streams.map((st) => st.fn.metric('IteratorAge', { period, statistic: 'Maximum', label: st.what })),
        }),
      );
    }
    this.dashboard.addWidgets(...fnWidgets);
  }
}
