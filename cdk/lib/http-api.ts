import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { AppSettings, FunctionName, Topology, httpRoutes } from './config';
import { constructIdFor, resourceName } from './naming';

const AUTH_IN_LAMBDA_REASON =
  'Authentication is done inside the Lambda handlers (HS256 JWT from Secrets Manager, docs/security.md), so that the same handlers behave identically behind API Gateway and in the local stack; routes without a token (signup, login, public feed, CORS preflight) are public by design.';

export interface NotesHttpApiProps {
  readonly settings: AppSettings;
  /** Its routes: the functions topology.json declares with an `http` trigger. */
  readonly topology: Topology;
  readonly functions: Record<FunctionName, lambda.IFunction>;
  /** CORS origins: literal strings for the SAM CLI (it cannot resolve intrinsics), any string in AWS. */
  readonly allowOrigins: string[];
}

export interface NotesHttpApi {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  /** https URL of the `$default` stage (no trailing slash). */
  readonly url: string;
}

/**
 * The HTTP API: one Lambda proxy route per `http` trigger of topology.json, CORS, the `$default` stage with
 * throttling and access logs, and a tighter throttle on the argon2 routes. Created directly in
 * `stack`, so the SAM-only synthesis and the backend stack give it the same logical ids.
 */
export function createHttpApi(stack: Stack, props: NotesHttpApiProps): NotesHttpApi {
  const { settings, functions } = props;
  const api = new apigwv2.HttpApi(stack, 'HttpApi', {
    apiName: resourceName(settings.stage, 'http'),
    description: 'Notes suite REST API',
    createDefaultStage: false,
    corsPreflight: {
      allowOrigins: props.allowOrigins,
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
  const accessLogs = new logs.LogGroup(stack, 'HttpApiAccessLogs', {
    logGroupName: `/aws/apigateway/${resourceName(settings.stage, 'http-access')}`,
    retention: settings.logRetentionDays as logs.RetentionDays,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stage = api.addStage('DefaultStage', {
    stageName: '$default',
    autoDeploy: true,
    throttle: settings.httpThrottle,
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(accessLogs),
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

  const cfnStage = stage.node.defaultChild as apigwv2.CfnStage;
  const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
  for (const route of httpRoutes(props.topology)) {
    const [created] = api.addRoutes({
      path: route.path,
      methods: [route.method as apigwv2.HttpMethod],
      integration: new integrations.HttpLambdaIntegration(`${constructIdFor(route.fn)}Integration`, functions[route.fn]),
    });
    if (props.topology.functions[route.fn].hashesPasswords) {
      // Each argon2id hash costs ~19 MiB and tens of ms of a 1024 MB function: a lower rate on
      // these routes keeps a password-guessing or signup flood from eating the account's concurrency.
      routeSettings[`${route.method} ${route.path}`] = {
        ThrottlingRateLimit: settings.authThrottle.rateLimit,
        ThrottlingBurstLimit: settings.authThrottle.burstLimit,
      };
      // A stage's route settings may only name routes that exist already.
      cfnStage.addResourceDependency(created.node.defaultChild as apigwv2.CfnRoute);
    }
  }
  cfnStage.routeSettings = routeSettings;

  NagSuppressions.addResourceSuppressions(api, [{ id: 'AwsSolutions-APIG4', reason: AUTH_IN_LAMBDA_REASON }], true);
  // $default stage URL: https://<api-id>.execute-api.<region>.amazonaws.com (no trailing slash).
  const url = `https://${api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
  return { api, stage, url };
}
