import { Match } from 'aws-cdk-lib/assertions';
import { REPO_DIR, httpRoutes, loadTopology } from '../lib/config';
import {
  DEAD_LETTER_QUEUES,
  FUNCTIONS,
  HTTP_ROUTES,
  QUEUES,
  RULES,
  STREAM_READ_ACTIONS,
  STREAM_TRIGGERED,
  WEBSOCKET_ROUTES,
  WORK_QUEUES,
  declaration,
  declared,
  functionsWhere,
  idOfKey,
  kebabOfKey,
  openApiOperations,
} from './declaration';
import { actionsOf, fakeFrontendBuild, functionLogicalId, functionProps, statementsOf, synth, Synthesized } from './synthesize';

// Every list of functions, queues and routes below is derived from shared/topology.json (and the HTTP
// routes from shared/openapi.yaml too), read independently of the app (./declaration).

let s: Synthesized;
beforeAll(() => {
  s = synth({ allowedOrigins: 'http://localhost:5173,https://notes.example.com' });
});

const ref = (prefix: string) => ({ Ref: Match.stringLikeRegexp(`^${prefix}`) });
// For jest's own expect (Match.* works only inside Template assertions).
const jRef = (prefix: string) => ({ Ref: expect.stringMatching(`^${prefix}`) });
const importOf = (stack: string, what: string) => ({
  'Fn::ImportValue': expect.stringMatching(`^${stack}:ExportsOutput.*${what}`),
});
/** The logical id of the queue topology.json names `key`: the one named notes-<stage>-<key in kebab case>. */
const queueLogicalId = (key: string): string => {
  const found = Object.keys(s.backend.findResources('AWS::SQS::Queue', { Properties: { QueueName: `notes-dev-${kebabOfKey(key)}` } }));
  if (found.length !== 1) throw new Error(`expected one queue for '${key}', found ${found.length}`);
  return found[0];
};
const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe('functions', () => {
  test.each(FUNCTIONS)('%s is a RustFunction: provided.al2023, bootstrap, arm64, RUST_LOG', (name) => {
    const p = functionProps(s.backend, name);
    expect(p.Runtime).toBe('provided.al2023');
    expect(p.Handler).toBe('bootstrap');
    expect(p.Architectures).toEqual(['arm64']);
    expect(p.Environment.Variables.RUST_LOG).toBe('info');
  });

  // X-Ray costs $5.00 per million traces and Lambda samples almost every note at low volume: opt-in.
  test('no function has active tracing (nor X-Ray permissions) by default; with -c tracing=true all have both', () => {
    const xrayStatements = (t: typeof s.backend, name: string) =>
      statementsOf(t, name).filter((x) => JSON.stringify(x.Action).includes('xray:'));
    for (const name of FUNCTIONS) {
      expect({ name, tracing: functionProps(s.backend, name).TracingConfig }).toEqual({ name, tracing: undefined });
      expect({ name, xray: xrayStatements(s.backend, name) }).toEqual({ name, xray: [] });
    }
    const traced = synth({ tracing: 'true' }).backend;
    for (const name of FUNCTIONS) {
      expect({ name, tracing: functionProps(traced, name).TracingConfig }).toEqual({ name, tracing: { Mode: 'Active' } });
      expect({ name, xray: actionsOf(xrayStatements(traced, name), 'xray:') }).toEqual({
        name,
        xray: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      });
    }
  });

  test.each(FUNCTIONS)("%s logs in Lambda's JSON format, application level INFO (= RUST_LOG), system level WARN", (name) => {
    const p = functionProps(s.backend, name);
    expect(p.LoggingConfig).toEqual({
      LogFormat: 'JSON',
      ApplicationLogLevel: 'INFO',
      SystemLogLevel: 'WARN',
      LogGroup: { Ref: expect.stringMatching(/Logs/) },
    });
  });

  test('-c logLevel=DEBUG moves the application log level and RUST_LOG together', () => {
    const t = synth({ logLevel: 'DEBUG' }).backend;
    for (const name of FUNCTIONS) {
      const p = functionProps(t, name);
      expect(p.LoggingConfig.ApplicationLogLevel).toBe('DEBUG');
      expect(p.Environment.Variables.RUST_LOG).toBe('debug');
    }
  });

  test('every function is a binary of the workspace: one asset source (the workspace), its own --bin', () => {
    // The asset of a RustFunction is the folder of the manifest it is given: the workspace root,
    // which is what the Docker bundling fallback mounts (a member's folder alone cannot build).
    for (const name of FUNCTIONS) {
      const fn = s.stacks.backend.functions[name];
      const staging = fn.node.findAll().find((c) => c.constructor.name === 'AssetStaging') as any;
      expect(staging.sourcePath).toBe(REPO_DIR);
    }
  });

  test('every function logs to its own log group with a retention', () => {
    const groups = s.backend.findResources('AWS::Logs::LogGroup');
    for (const name of FUNCTIONS) {
      const lg = functionProps(s.backend, name).LoggingConfig.LogGroup.Ref;
      expect(groups[lg]).toBeDefined();
      expect(groups[lg].Properties.RetentionInDays).toBe(30);
    }
    for (const g of Object.values(groups) as any[]) expect(g.Properties.RetentionInDays).toBe(30);
  });

  test.each(FUNCTIONS)('%s gets exactly the environment topology.json declares for it, each variable naming its resource', (name) => {
    const f = declared(name);
    const vars = functionProps(s.backend, name).Environment.Variables;
    expect(Object.keys(vars).sort()).toEqual(['RUST_LOG', ...f.environment].sort());
    if (vars.TABLE_NAME) expect(vars.TABLE_NAME).toEqual(importOf('notes-dev-data', 'Table'));
    if (vars.EVENT_BUS_NAME) expect(vars.EVENT_BUS_NAME).toEqual(jRef('EventBus'));
    if (vars.JWT_SECRET_ARN) expect(vars.JWT_SECRET_ARN).toEqual(importOf('notes-dev-data', 'JwtSecret'));
    if (vars.JWT_TTL_SECONDS) expect(vars.JWT_TTL_SECONDS).toBe('86400');
    // The management endpoint: https://<ws-api>.execute-api.<region>.<suffix>/<stage>.
    if (vars.WEBSOCKET_MANAGEMENT_ENDPOINT) {
      expect(vars.WEBSOCKET_MANAGEMENT_ENDPOINT).toEqual({
        'Fn::Join': ['', ['https://', jRef('WebSocketApi'), '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/prod']],
      });
    }
    // The URL (Ref) of the one queue its sendsTo names.
    if (vars.BROADCAST_QUEUE_URL) expect(vars.BROADCAST_QUEUE_URL).toEqual({ Ref: queueLogicalId(f.sendsTo!) });
  });
});

describe('least privilege: each role allows what the declaration lists, nothing more', () => {
  const tableArn = importOf('notes-dev-data', 'Table.*Arn');
  const indexArn = (index: string) => ({ 'Fn::Join': ['', [tableArn, `/index/${index}`]] });
  const queueArn = (key: string) => ({ 'Fn::GetAtt': [queueLogicalId(key), 'Arn'] });
  const withAction = (st: any[], service: string) => st.filter((x) => JSON.stringify(x.Action).includes(`"${service}:`));
  const streamArn = importOf('notes-dev-data', 'Table.*StreamArn');
  /** A statement of stream reads only (Lambda's DynamoDB event source), not of the table's items. */
  const readsStream = (x: any) => ([] as string[]).concat(x.Action).every((a) => STREAM_READ_ACTIONS.includes(a));

  test.each(FUNCTIONS)('%s: exactly its tableActions, in one statement, on the table (or only on the index it queries)', (name) => {
    const f = declared(name);
    const dynamo = withAction(statementsOf(s.backend, name), 'dynamodb').filter((x) => !readsStream(x));
    if (f.tableActions.length === 0) {
      expect(dynamo).toEqual([]);
      return;
    }
    expect(dynamo).toHaveLength(1);
    expect(dynamo[0].Effect).toBe('Allow');
    expect([].concat(dynamo[0].Action).sort()).toEqual([...f.tableActions].sort());
    expect(dynamo[0].Resource).toEqual(f.queriesIndex ? indexArn(f.queriesIndex) : tableArn);
  });

  test('some function is triggered by the table stream (streams), and a stream trigger comes with no table action', () => {
    expect(STREAM_TRIGGERED.length).toBeGreaterThan(0);
    for (const [name] of STREAM_TRIGGERED) expect({ name, tableActions: declared(name).tableActions }).toEqual({ name, tableActions: [] });
  });

  test.each(FUNCTIONS)(
    "%s reads the table's stream only if a stream triggers it: DescribeStream, GetRecords, GetShardIterator on the stream's ARN, ListStreams (no resource-level permission) on *",
    (name) => {
      const st = withAction(statementsOf(s.backend, name), 'dynamodb').filter(readsStream);
      if (!declared(name).trigger.stream) {
        expect(st).toEqual([]);
        expect(JSON.stringify(statementsOf(s.backend, name))).not.toMatch(/StreamArn/);
        return;
      }
      expect(st.map((x) => ({ Effect: x.Effect, Action: ([] as string[]).concat(x.Action).sort(), Resource: x.Resource })).sort(byJson)).toEqual(
        [
          { Effect: 'Allow', Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], Resource: streamArn },
          { Effect: 'Allow', Action: ['dynamodb:ListStreams'], Resource: '*' },
        ].sort(byJson),
      );
      // Nothing on the table's items, the table or its indexes: every dynamodb statement is one of the two above.
      expect(withAction(statementsOf(s.backend, name), 'dynamodb')).toHaveLength(2);
    },
  );

  test('only the stream consumers may use "*" (ListStreams), and only for ListStreams (without -c tracing)', () => {
    for (const name of FUNCTIONS) {
      const wildcards = statementsOf(s.backend, name).filter((x) => JSON.stringify(x.Resource) === '"*"');
      const actions = wildcards.flatMap((x) => [].concat(x.Action));
      expect({ name, actions }).toEqual({ name, actions: declared(name).trigger.stream ? ['dynamodb:ListStreams'] : [] });
    }
  });

  test('only the functions declaring queriesIndex have a statement on an index, and never on index/*', () => {
    const onIndex = (x: any) => JSON.stringify(x.Resource).includes('/index/');
    expect(functionsWhere((f) => f.queriesIndex !== undefined).length).toBeGreaterThan(0);
    for (const name of FUNCTIONS) {
      const indexStatements = statementsOf(s.backend, name).filter(onIndex);
      expect({ name, onIndex: indexStatements.length > 0 }).toEqual({ name, onIndex: declared(name).queriesIndex !== undefined });
    }
    expect(JSON.stringify(s.backend.toJSON())).not.toMatch(/\/index\/\*/);
  });

  test.each(FUNCTIONS)('%s: PutEvents only if it declares putEvents, on the bus only', (name) => {
    const st = statementsOf(s.backend, name);
    expect(actionsOf(st, 'events:')).toEqual(declared(name).putEvents ? ['events:PutEvents'] : []);
    for (const x of withAction(st, 'events')) {
      expect(x.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching('^EventBus'), 'Arn'] });
    }
  });

  test.each(FUNCTIONS)('%s: reads the JWT secret only if it declares readSecret', (name) => {
    const st = statementsOf(s.backend, name);
    expect(actionsOf(st, 'secretsmanager:')).toEqual(declared(name).readSecret ? ['secretsmanager:GetSecretValue'] : []);
    for (const x of withAction(st, 'secretsmanager')) {
      expect(x.Resource).toEqual(importOf('notes-dev-data', 'JwtSecret'));
    }
  });

  // What a function may send to: the queue its sendsTo names, when a rule invokes it that rule's DLQ
  // (the on-failure destination of its asynchronous invocations), and when a stream mapping feeds it
  // that mapping's on-failure queue. No other queue, no DLQ of a work queue.
  const sendTargets = (name: string): string[] => {
    const f = declared(name);
    return [
      ...(f.sendsTo ? [f.sendsTo] : []),
      ...(f.trigger.rule ? [declaration.rules[f.trigger.rule].deadLetterQueue] : []),
      ...(f.trigger.stream ? [declaration.streams[f.trigger.stream].onFailure] : []),
    ];
  };

  test('some function sends to a queue (sendsTo), and some is invoked by a rule with an on-failure destination', () => {
    expect(functionsWhere((f) => f.sendsTo !== undefined).length).toBeGreaterThan(0);
    expect(functionsWhere((f) => f.trigger.rule !== undefined).length).toBeGreaterThan(0);
  });

  test.each(FUNCTIONS)('%s may send only to the queues its declaration names', (name) => {
    const sends = statementsOf(s.backend, name).filter((x) => [].concat(x.Action).includes('sqs:SendMessage' as never));
    expect(sends.map((x) => x.Resource).sort(byJson)).toEqual(sendTargets(name).map(queueArn).sort(byJson));
    // CDK's grant to a sender: send (which also authorizes SendMessageBatch), plus the two reads it needs.
    for (const st of sends) {
      expect(([] as string[]).concat(st.Action).sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    }
  });

  test.each(FUNCTIONS)('%s consumes only the queue that triggers it, if one does', (name) => {
    const queue = declared(name).trigger.queue;
    const consuming = statementsOf(s.backend, name).filter((x) => [].concat(x.Action).includes('sqs:ReceiveMessage' as never));
    expect(consuming.map((x) => x.Resource)).toEqual(queue ? [queueArn(queue)] : []);
    for (const x of consuming) {
      expect([].concat(x.Action)).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']));
      expect([].concat(x.Action)).not.toContain('sqs:SendMessage');
    }
    // Every SQS statement it has is one of the above.
    const allowed = [...sendTargets(name), ...(queue ? [queue] : [])].map((key) => JSON.stringify(queueArn(key)));
    for (const x of withAction(statementsOf(s.backend, name), 'sqs')) expect(allowed).toContain(JSON.stringify(x.Resource));
  });

  test.each(FUNCTIONS)('%s: no service actions but logs (its own group) and those its declaration asks for (no X-Ray by default)', (name) => {
    const f = declared(name);
    const st = statementsOf(s.backend, name);
    const services = new Set(st.flatMap((x) => [].concat(x.Action)).map((a: string) => a.split(':')[0]));
    const expected = ['logs'];
    if (f.tableActions.length > 0 || f.trigger.stream) expected.push('dynamodb');
    if (f.putEvents) expected.push('events');
    if (f.readSecret) expected.push('secretsmanager');
    if (f.manageConnections) expected.push('execute-api');
    if (sendTargets(name).length > 0 || f.trigger.queue) expected.push('sqs');
    expect([...services].sort()).toEqual(expected.sort());
    for (const x of withAction(st, 'logs')) {
      expect(x.Resource).toEqual({ 'Fn::GetAtt': [functionProps(s.backend, name).LoggingConfig.LogGroup.Ref, 'Arn'] });
    }
  });

  test('no function role has a managed policy', () => {
    for (const name of FUNCTIONS) {
      const roleId = functionProps(s.backend, name).Role['Fn::GetAtt'][0];
      expect(s.backend.findResources('AWS::IAM::Role')[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test('no dynamodb:Scan (nor any dynamodb wildcard) anywhere in any stack', () => {
    for (const t of [s.data, s.frontend, s.backend, s.site]) {
      const json = JSON.stringify(t.toJSON());
      expect(json).not.toMatch(/dynamodb:Scan/);
      expect(json).not.toMatch(/dynamodb:\*/);
    }
  });

  test.each(FUNCTIONS)('%s may ManageConnections only if it declares manageConnections, on its WebSocket API stage only (POST @connections)', (name) => {
    const st = statementsOf(s.backend, name).filter((x) => [].concat(x.Action).includes('execute-api:ManageConnections' as never));
    expect(actionsOf(statementsOf(s.backend, name), 'execute-api:')).toEqual(
      declared(name).manageConnections ? ['execute-api:ManageConnections'] : [],
    );
    expect(st).toHaveLength(declared(name).manageConnections ? 1 : 0);
    for (const x of st) expect(JSON.stringify(x.Resource)).toMatch(/WebSocketApi.*\/prod\/POST\/@connections\/\*/);
  });
});

const routeTargets = (t: typeof s.backend, keep: (routeKey: string) => boolean): Array<[string, any]> =>
  (Object.values(t.findResources('AWS::ApiGatewayV2::Route')) as any[])
    .filter((r) => keep(r.Properties.RouteKey))
    .map((r) => [r.Properties.RouteKey, t.findResources('AWS::ApiGatewayV2::Integration')[r.Properties.Target['Fn::Join'][1][1].Ref]]);

describe('HTTP API', () => {
  test('topology.json routes exactly the operations shared/openapi.yaml documents, and the app reads them from it', () => {
    expect(HTTP_ROUTES.map(([k]) => k).sort()).toEqual(openApiOperations().sort());
    expect(httpRoutes(loadTopology()).map((r) => [`${r.method} ${r.path}`, r.fn])).toEqual(HTTP_ROUTES);
  });

  test('exactly the declared routes, and no other', () => {
    const keys = routeTargets(s.backend, (k) => !k.startsWith('$')).map(([k]) => k);
    expect(keys.sort()).toEqual(HTTP_ROUTES.map(([k]) => k).sort());
  });

  test.each(HTTP_ROUTES)('%s -> %s (Lambda proxy, payload 2.0, no API Gateway authorizer)', (routeKey, fn) => {
    const route = Object.values(s.backend.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }))[0] as any;
    expect(route.Properties.AuthorizationType).toBe('NONE');
    const [[, integration]] = routeTargets(s.backend, (k) => k === routeKey);
    expect(integration.Properties.IntegrationType).toBe('AWS_PROXY');
    expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
    expect(integration.Properties.IntegrationUri).toEqual({ 'Fn::GetAtt': [functionLogicalId(s.backend, fn), 'Arn'] });
  });
  test('CORS from configuration plus the CloudFront origin, never *', () => {
    const api = Object.values(s.backend.findResources('AWS::ApiGatewayV2::Api', { Properties: { ProtocolType: 'HTTP' } }))[0] as any;
    const cors = api.Properties.CorsConfiguration;
    expect(JSON.stringify(cors)).not.toContain('"*"');
    expect(cors.AllowOrigins).toEqual([
      { 'Fn::Join': ['', ['https://', importOf('notes-dev-frontend', 'Distribution.*DomainName')]] },
      'http://localhost:5173',
      'https://notes.example.com',
    ]);
    expect(cors.AllowHeaders).toEqual(expect.arrayContaining(['Authorization', 'Content-Type', 'Idempotency-Key']));
    expect(cors.AllowMethods).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'DELETE']));
  });

  test('$default stage with throttling and access logs', () => {
    s.backend.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: ref('HttpApi'),
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });

  test('throttling comes from context', () => {
    const t = synth({ httpThrottleRateLimit: 7, httpThrottleBurstLimit: 9 }).backend;
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 },
    });
  });
});

describe('WebSocket API', () => {
  test.each(WEBSOCKET_ROUTES)('%s routes to %s', (routeKey, fn) => {
    const [[, integration]] = routeTargets(s.backend, (k) => k === routeKey);
    expect(JSON.stringify(integration.Properties.IntegrationUri)).toContain(`"${functionLogicalId(s.backend, fn)}"`);
  });

  test('exactly the declared WebSocket routes, and no other', () => {
    const keys = routeTargets(s.backend, (k) => k.startsWith('$')).map(([k]) => k);
    expect(keys.sort()).toEqual(WEBSOCKET_ROUTES.map(([k]) => k).sort());
  });
  test('$default is a two-way route: its Lambda result goes back to the client', () => {
    s.backend.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$default',
      RouteResponseSelectionExpression: '$default',
    });
    s.backend.resourceCountIs('AWS::ApiGatewayV2::RouteResponse', 1);
    s.backend.hasResourceProperties('AWS::ApiGatewayV2::RouteResponse', {
      RouteId: ref('WebSocketApidefaultRoute'),
      RouteResponseKey: '$default',
    });
  });

  test('stage with throttling and access logs', () => {
    s.backend.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: ref('WebSocketApi'),
      StageName: 'prod',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 50 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('connectionId') },
    });
  });
});

describe('data', () => {
  test('single table: its keys and the feed index keys (strings), on demand, PITR, TTL, as topology.json names them', () => {
    const t = declaration.table;
    s.data.resourceCountIs('AWS::DynamoDB::Table', 1);
    s.data.hasResourceProperties('AWS::DynamoDB::Table', {
      AttributeDefinitions: [t.partitionKey, t.sortKey, t.publicFeed.partitionKey, t.publicFeed.sortKey].map((AttributeName) => ({
        AttributeName,
        AttributeType: 'S',
      })),
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: t.ttlAttribute, Enabled: true },
    });
  });
  test('JWT secret is generated by Secrets Manager, never a value in the template', () => {
    s.data.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 64 }),
      SecretString: Match.absent(),
    });
    // No resource policy opens it: only the roles granted in the backend can read it.
    s.data.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
  });
});

describe('events and queues', () => {
  test('one custom event bus', () => {
    s.backend.resourceCountIs('AWS::Events::EventBus', 1);
  });

  test('every queue of topology.json has SSE and a policy that denies non-TLS requests', () => {
    const queues = s.backend.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(QUEUES.length);
    for (const q of Object.values(queues) as any[]) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    const policies = Object.values(s.backend.findResources('AWS::SQS::QueuePolicy')) as any[];
    for (const id of Object.keys(queues)) {
      const p = policies.find((x) => x.Properties.Queues.some((r: any) => r.Ref === id));
      expect(p).toBeDefined();
      expect(p.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      );
    }
  });
});

describe('frontend', () => {
  test('bucket blocks public access, enforces SSL, is encrypted', () => {
    s.frontend.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: Match.anyValue(),
    });
    const policy = JSON.stringify(s.frontend.findResources('AWS::S3::BucketPolicy'));
    expect(policy).toMatch(/"aws:SecureTransport":"false"/);
  });

  test('CloudFront uses origin access control (OAC), not an OAI', () => {
    s.frontend.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    s.frontend.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    s.frontend.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue() })],
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
    const policy = JSON.stringify(s.frontend.findResources('AWS::S3::BucketPolicy'));
    expect(policy).toContain('cloudfront.amazonaws.com');
  });

  test('/config.json = {apiUrl, wsUrl} written at deploy time; no build -> only config.json, no prune', () => {
    const dep = Object.values(s.site.findResources('Custom::CDKBucketDeployment'))[0] as any;
    expect(dep.Properties.SourceObjectKeys).toHaveLength(1);
    expect(dep.Properties.Prune).toBe(false);
    const markers = JSON.stringify(dep.Properties.SourceMarkers);
    expect(markers).toMatch(/notes-dev-backend:ExportsOutputRefHttpApi/);
    expect(markers).toMatch(/notes-dev-backend:ExportsOutputRefWebSocketApi/);
    expect(dep.Properties.DistributionPaths).toEqual(['/*']);
  });

  test('the staged config.json is {"apiUrl": <HTTP API URL>, "wsUrl": <wss stage URL>} filled in at deploy time', () => {
    const fs = require('fs');
    const path = require('path');
    const dep = Object.values(s.site.findResources('Custom::CDKBucketDeployment'))[0] as any;
    const key: string = dep.Properties.SourceObjectKeys[0];
    const dir = path.join(s.app.outdir, `asset.${key.replace(/\.zip$/, '')}`);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf-8'));
    expect(Object.keys(config).sort()).toEqual(['apiUrl', 'wsUrl']);
    const markers = dep.Properties.SourceMarkers[0];
    // Replace each deploy-time marker by the CloudFormation value it stands for.
    const render = (v: string) =>
      v.replace(/<<marker:0xbaba:\d+>>/g, (m) => {
        const x = markers[m];
        if (x['Fn::ImportValue']) return `{${x['Fn::ImportValue'].replace(/^notes-dev-backend:ExportsOutputRef/, '').replace(/[0-9A-F]{16}$/, '')}}`;
        return `{${x.Ref}}`;
      });
    expect(render(config.apiUrl)).toBe('https://{HttpApi}.execute-api.{AWS::Region}.{AWS::URLSuffix}');
    expect(render(config.wsUrl)).toBe('wss://{WebSocketApi}.execute-api.{AWS::Region}.{AWS::URLSuffix}/prod');
  });

  test('the config.json content holds the HTTP API URL and the wss stage URL', () => {
    const { Stack } = require('aws-cdk-lib');
    const backend = s.stacks.backend;
    const r = (v: string) => JSON.stringify(Stack.of(backend).resolve(v));
    expect(r(backend.httpApiUrl)).toMatch(/"https:\/\/",\{"Ref":"HttpApi[0-9A-F]+"\},".execute-api."/);
    expect(r(backend.wsUrl)).toMatch(/"wss:\/\/",\{"Ref":"WebSocketApi[0-9A-F]+"\},".execute-api.".*"\/prod"/);
  });

  test('with a frontend build, the build is deployed too and stale files are pruned', () => {
    const withBuild = synth({ frontendBuildDir: fakeFrontendBuild() });
    expect(withBuild.stacks.site.includesBuild).toBe(true);
    const dep = Object.values(withBuild.site.findResources('Custom::CDKBucketDeployment'))[0] as any;
    expect(dep.Properties.SourceObjectKeys).toHaveLength(2);
    expect(dep.Properties.Prune).toBe(true);
  });
});

describe('monitoring', () => {
  test('an alarm on every DLQ, on the age of every work queue, on errors and throttles of every function', () => {
    const alarms = Object.values(s.backend.findResources('AWS::CloudWatch::Alarm')) as any[];
    const metric = (name: string) => alarms.filter((a) => a.Properties.MetricName === name);
    const queueOf = (a: any) => a.Properties.Dimensions[0].Value['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, '');
    const visible = metric('ApproximateNumberOfMessagesVisible');
    expect(visible.map(queueOf).sort()).toEqual(DEAD_LETTER_QUEUES.map(idOfKey).sort());
    for (const a of visible) {
      expect(a.Properties.Threshold).toBe(0);
      expect(a.Properties.ComparisonOperator).toBe('GreaterThanThreshold');
    }
    // The age of each work queue's oldest message: note-created over 5 minutes for 3 minutes, broadcast over a minute.
    const ages = metric('ApproximateAgeOfOldestMessage');
    expect(ages.map(queueOf).sort()).toEqual(WORK_QUEUES.map(([, id]) => `${id}Queue`).sort());
    const ageOf = (queue: string) => ages.find((a) => a.Properties.Dimensions[0].Value['Fn::GetAtt'][0].startsWith(queue)).Properties;
    expect(ageOf('NoteCreatedQueue')).toMatchObject({ Statistic: 'Maximum', Period: 60, Threshold: 300, EvaluationPeriods: 3 });
    expect(ageOf('BroadcastShardsQueue')).toMatchObject({
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 60,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmName: 'notes-dev-broadcast-shards-oldest-message-age',
    });
    for (const name of FUNCTIONS) {
      const id = functionLogicalId(s.backend, name);
      for (const m of ['Errors', 'Throttles']) {
        expect(metric(m).filter((a) => JSON.stringify(a.Properties.Dimensions).includes(`"${id}"`))).toHaveLength(1);
      }
    }
    // The iterator age of each function a stream mapping feeds.
    const iteratorAges = metric('IteratorAge');
    expect(iteratorAges.map((a) => a.Properties.Dimensions[0].Value.Ref).sort()).toEqual(
      STREAM_TRIGGERED.map(([fn]) => functionLogicalId(s.backend, fn)).sort(),
    );
    // Each DLQ (and on-failure queue), each work queue's age, dead-lettered records, HTTP 5xx, each
    // rule's failed invocations, the on-failure destination of each function a rule invokes or a stream
    // mapping feeds, the iterator age of each function a stream mapping feeds, errors and throttles of
    // each function.
    const ruleInvoked = functionsWhere((f) => f.trigger.rule !== undefined);
    expect(alarms).toHaveLength(
      DEAD_LETTER_QUEUES.length + WORK_QUEUES.length + 1 + 1 + RULES.length + ruleInvoked.length + 2 * STREAM_TRIGGERED.length + 2 * FUNCTIONS.length,
    );
  });

  test('a CloudWatch dashboard', () => {
    s.backend.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('architecture', () => {
  test('arm64 by default; -c arch=x86_64 builds every function for x86_64', () => {
    for (const name of FUNCTIONS) expect(functionProps(s.backend, name).Architectures).toEqual(['arm64']);
    const t = synth({ arch: 'x86_64' }).backend;
    for (const name of FUNCTIONS) expect(functionProps(t, name).Architectures).toEqual(['x86_64']);
  });
});

describe('outputs', () => {
  test('backend outputs the API URLs and the URL of every queue of topology.json; frontend outputs the site URL', () => {
    s.backend.hasOutput('HttpApiUrl', {});
    s.backend.hasOutput('WebSocketUrl', {});
    for (const name of ['EventBusArn', 'EventArchiveArn', 'AlarmTopicArn']) s.backend.hasOutput(name, {});
    // A work queue's is <Queue>QueueUrl, a dead-letter queue's <Queue>Url.
    for (const key of QUEUES) {
      const id = DEAD_LETTER_QUEUES.includes(key) ? idOfKey(key) : `${idOfKey(key)}Queue`;
      s.backend.hasOutput(`${id}Url`, { Value: { Ref: queueLogicalId(key) } });
    }
    s.frontend.hasOutput('SiteUrl', {});
  });
});
