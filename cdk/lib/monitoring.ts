import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { constructIdFor } from './naming';

export interface MonitoringProps {
  readonly functions: Record<string, lambda.IFunction>;
  readonly noteCreatedQueue: sqs.IQueue;
  readonly noteCreatedDlq: sqs.IQueue;
  readonly notifyDlq: sqs.IQueue;
  readonly httpApi: apigwv2.IHttpApi;
  readonly wsApi: apigwv2.IWebSocketApi;
  readonly wsStageName: string;
  readonly oldestMessageAgeThresholdSeconds: number;
}

/**
 * Alarms (each DLQ not empty, age of the oldest note-created message, errors and throttles of
 * every function) and one CloudWatch dashboard. Alarms have no action: subscribe a topic or
 * an incident tool to them per account (README).
 */
export class Monitoring extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const period = Duration.minutes(1);

    const dlqAlarm = (cid: string, queue: sqs.IQueue, what: string) =>
      new cloudwatch.Alarm(this, cid, {
        alarmDescription: `${what} has messages: events that could not be processed (inspect, fix, redrive).`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.alarms.push(dlqAlarm('NoteCreatedDlqNotEmpty', props.noteCreatedDlq, 'The note-created DLQ'));
    this.alarms.push(dlqAlarm('NotifyDlqNotEmpty', props.notifyDlq, 'The notify DLQ'));
    this.alarms.push(
      new cloudwatch.Alarm(this, 'NoteCreatedOldestMessageAge', {
        alarmDescription: `A note-created message waited more than ${props.oldestMessageAgeThresholdSeconds} s: save-note is failing or not keeping up.`,
        metric: props.noteCreatedQueue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
        threshold: props.oldestMessageAgeThresholdSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    const fnWidgets: cloudwatch.IWidget[] = [];
    for (const [name, fn] of Object.entries(props.functions)) {
      const cid = constructIdFor(name);
      this.alarms.push(
        new cloudwatch.Alarm(this, `${cid}Errors`, {
          alarmDescription: `The ${name} function reported errors.`,
          metric: fn.metricErrors({ period, statistic: 'Sum' }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      this.alarms.push(
        new cloudwatch.Alarm(this, `${cid}Throttles`, {
          alarmDescription: `The ${name} function was throttled.`,
          metric: fn.metricThrottles({ period, statistic: 'Sum' }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      fnWidgets.push(
        new cloudwatch.GraphWidget({
          title: name,
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
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 6 }),
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
          props.noteCreatedQueue.metricApproximateNumberOfMessagesVisible({ period }),
          props.noteCreatedDlq.metricApproximateNumberOfMessagesVisible({ period }),
          props.notifyDlq.metricApproximateNumberOfMessagesVisible({ period }),
        ],
        right: [props.noteCreatedQueue.metricApproximateAgeOfOldestMessage({ period })],
      }),
    );
    this.dashboard.addWidgets(...fnWidgets);
  }
}
