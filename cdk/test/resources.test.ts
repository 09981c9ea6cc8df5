import { Match } from 'aws-cdk-lib/assertions';
import { FUNCTION_NAMES, httpRoutes, loadTopology } from '../lib/config';
import { REPO_DIR } from '../lib/config';
import { actionsOf, fakeFrontendBuild, functionLogicalId, functionProps, statementsOf, synth, Synthesized } from './synthesize';

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

describe('functions', () => {
  test.each([...FUNCTION_NAMES])('%s is a RustFunction: provided.al2023, bootstrap, arm64, RUST_LOG', (name) => {
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
    for (const name of FUNCTION_NAMES) {
      expect({ name, tracing: functionProps(s.backend, name).TracingConfig }).toEqual({ name, tracing: undefined });
      expect({ name, xray: xrayStatements(s.backend, name) }).toEqual({ name, xray: [] });
    }
    const traced = synth({ tracing: 'true' }).backend;
    for (const name of FUNCTION_NAMES) {
      expect({ name, tracing: functionProps(traced, name).TracingConfig }).toEqual({ name, tracing: { Mode: 'Active' } });
      expect({ name, xray: actionsOf(xrayStatements(traced, name), 'xray:') }).toEqual({
        name,
        xray: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      });
    }
  });

  test.each([...FUNCTION_NAMES])("%s logs in Lambda's JSON format, application level INFO (= RUST_LOG), system level WARN", (name) => {
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
    for (const name of FUNCTION_NAMES) {
      const p = functionProps(t, name);
      expect(p.LoggingConfig.ApplicationLogLevel).toBe('DEBUG');
      expect(p.Environment.Variables.RUST_LOG).toBe('debug');
    }
  });

  test('every function is a binary of the workspace: one asset source (the workspace), its own --bin', () => {
    // The asset of a RustFunction is the folder of the manifest it is given: the workspace root,
    // which is what the Docker bundling fallback mounts (a member's folder alone cannot build).
    for (const name of FUNCTION_NAMES) {
      const fn = s.stacks.backend.functions[name];
      const staging = fn.node.findAll().find((c) => c.constructor.name === 'AssetStaging') as any;
      expect(staging.sourcePath).toBe(REPO_DIR);
    }
  });

  test('every function logs to its own log group with a retention', () => {
    const groups = s.backend.findResources('AWS::Logs::LogGroup');
    for (const name of FUNCTION_NAMES) {
      const lg = functionProps(s.backend, name).LoggingConfig.LogGroup.Ref;
      expect(groups[lg]).toBeDefined();
      expect(groups[lg].Properties.RetentionInDays).toBe(30);
    }
    for (const g of Object.values(groups) as any[]) expect(g.Properties.RetentionInDays).toBe(30);
  });

  // The environment of each function, from the table: nothing more, nothing less.
  const expectedEnv: Record<string, string[]> = {
    'publish-note': ['TABLE_NAME', 'EVENT_BUS_NAME', 'JWT_SECRET_ARN'],
    'save-note': ['TABLE_NAME', 'EVENT_BUS_NAME'],
    notify: ['TABLE_NAME', 'WEBSOCKET_MANAGEMENT_ENDPOINT', 'BROADCAST_QUEUE_URL'],
    broadcast: ['TABLE_NAME', 'WEBSOCKET_MANAGEMENT_ENDPOINT'],
    connect: ['TABLE_NAME', 'JWT_SECRET_ARN'],
    disconnect: ['TABLE_NAME'],
    'ws-default': [],
    signup: ['TABLE_NAME'],
    login: ['TABLE_NAME', 'JWT_SECRET_ARN', 'JWT_TTL_SECONDS'],
    'get-user': ['TABLE_NAME', 'JWT_SECRET_ARN'],
    'get-notes': ['TABLE_NAME', 'JWT_SECRET_ARN'],
    'get-public-notes': ['TABLE_NAME'],
    'get-note': ['TABLE_NAME', 'JWT_SECRET_ARN'],
    'update-note': ['TABLE_NAME', 'EVENT_BUS_NAME', 'JWT_SECRET_ARN'],
    'delete-note': ['TABLE_NAME', 'EVENT_BUS_NAME', 'JWT_SECRET_ARN'],
  };
  test('the expected environments cover every function', () => {
    expect(Object.keys(expectedEnv).sort()).toEqual([...FUNCTION_NAMES].sort());
  });

  test.each(Object.keys(expectedEnv))('%s gets exactly the environment it needs', (name) => {
    const vars = functionProps(s.backend, name).Environment.Variables;
    expect(Object.keys(vars).sort()).toEqual(['RUST_LOG', ...expectedEnv[name]].sort());
    if (vars.TABLE_NAME) expect(vars.TABLE_NAME).toEqual(importOf('notes-dev-data', 'Table'));
    if (vars.EVENT_BUS_NAME) expect(vars.EVENT_BUS_NAME).toEqual(jRef('EventBus'));
    if (vars.JWT_SECRET_ARN) expect(vars.JWT_SECRET_ARN).toEqual(importOf('notes-dev-data', 'JwtSecret'));
    if (vars.JWT_TTL_SECONDS) expect(vars.JWT_TTL_SECONDS).toBe('86400');
    if (vars.BROADCAST_QUEUE_URL) expect(vars.BROADCAST_QUEUE_URL).toEqual(jRef('BroadcastShardsQueue'));
  });

  test.each(['notify', 'broadcast'])(
    '%s gets the management endpoint https://<ws-api>.execute-api.<region>.<suffix>/<stage>',
    (name) => {
      const ep = functionProps(s.backend, name).Environment.Variables.WEBSOCKET_MANAGEMENT_ENDPOINT;
      expect(ep).toEqual({
        'Fn::Join': ['', ['https://', jRef('WebSocketApi'), '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/prod']],
      });
    },
  );

  test("notify's BROADCAST_QUEUE_URL is the URL (Ref) of the broadcast queue", () => {
    const url = functionProps(s.backend, 'notify').Environment.Variables.BROADCAST_QUEUE_URL;
    const [queueId] = Object.keys(s.backend.findResources('AWS::SQS::Queue', { Properties: { QueueName: 'notes-dev-broadcast-shards' } }));
    expect(queueId).toMatch(/^BroadcastShardsQueue/);
    expect(url).toEqual({ Ref: queueId });
  });
});

describe('least privilege', () => {
  const expectedDynamo: Record<string, string[]> = {
    'publish-note': ['GetItem', 'PutItem'],
    'save-note': ['PutItem'],
    notify: ['DeleteItem', 'GetItem', 'Query'],
    broadcast: ['DeleteItem', 'GetItem', 'Query'],
    // Counts the user's open connections (the cap per user) before writing one.
    connect: ['PutItem', 'Query'],
    disconnect: ['DeleteItem', 'GetItem'],
    'ws-default': [],
    signup: ['PutItem'],
    login: ['GetItem'],
    'get-user': ['GetItem'],
    'get-notes': ['Query'],
    'get-public-notes': ['Query'],
    'get-note': ['GetItem'],
    // A note is one item: an update puts it again, a delete puts a tombstone in its place.
    'update-note': ['GetItem', 'PutItem'],
    'delete-note': ['GetItem', 'PutItem'],
  };
  // The functions that read the public feed index, and only that index (never the table).
  const queriesFeed = ['get-public-notes'];
  const tableArn = importOf('notes-dev-data', 'Table.*Arn');
  const feedIndexArn = { 'Fn::Join': ['', [tableArn, '/index/publicFeed']] };
  const putsEvents = ['publish-note', 'save-note', 'update-note', 'delete-note'];
  const readsSecret = ['publish-note', 'connect', 'login', 'get-user', 'get-notes', 'get-note', 'update-note', 'delete-note'];

  test.each(Object.keys(expectedDynamo))('%s: exactly its DynamoDB actions, on the table (or the feed index) only', (name) => {
    const st = statementsOf(s.backend, name);
    expect(actionsOf(st, 'dynamodb:')).toEqual(expectedDynamo[name].map((a) => `dynamodb:${a}`));
    for (const x of st.filter((x) => JSON.stringify(x.Action).includes('dynamodb:'))) {
      expect(x.Resource).toEqual(queriesFeed.includes(name) ? feedIndexArn : tableArn);
    }
  });

  test("save-note's table permissions are exactly PutItem (one put per note: no transaction, no GetItem)", () => {
    const dynamo = statementsOf(s.backend, 'save-note').filter((x) => JSON.stringify(x.Action).includes('dynamodb:'));
    expect(dynamo).toEqual([{ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: tableArn }]);
  });

  test('only get-public-notes may Query the public feed index, and its policy names the index ARN, not the table', () => {
    const onIndex = (x: any) => JSON.stringify(x.Resource).includes('/index/');
    for (const name of FUNCTION_NAMES) {
      const indexStatements = statementsOf(s.backend, name).filter(onIndex);
      expect({ name, onIndex: indexStatements.length > 0 }).toEqual({ name, onIndex: name === 'get-public-notes' });
    }
    const dynamo = statementsOf(s.backend, 'get-public-notes').filter((x) => JSON.stringify(x.Action).includes('dynamodb:'));
    expect(dynamo).toEqual([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: feedIndexArn }]);
    // The one statement above is all it gets: nothing on the table itself, and no `index/*` anywhere.
    expect(JSON.stringify(s.backend.toJSON())).not.toMatch(/\/index\/\*/);
  });

  test.each([...FUNCTION_NAMES])('%s: PutEvents only if it publishes, on the bus only', (name) => {
    const st = statementsOf(s.backend, name);
    expect(actionsOf(st, 'events:')).toEqual(putsEvents.includes(name) ? ['events:PutEvents'] : []);
    for (const x of st.filter((x) => JSON.stringify(x.Action).includes('events:'))) {
      expect(x.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching('^EventBus'), 'Arn'] });
    }
  });

  test.each([...FUNCTION_NAMES])('%s: reads the JWT secret only if it needs it', (name) => {
    const st = statementsOf(s.backend, name);
    expect(actionsOf(st, 'secretsmanager:')).toEqual(readsSecret.includes(name) ? ['secretsmanager:GetSecretValue'] : []);
    for (const x of st.filter((x) => JSON.stringify(x.Action).includes('secretsmanager:'))) {
      expect(x.Resource).toEqual(importOf('notes-dev-data', 'JwtSecret'));
    }
  });

  const queueArn = (prefix: string) => ({ 'Fn::GetAtt': [expect.stringMatching(`^${prefix}[0-9A-F]{8}$`), 'Arn'] });

  test('notify may only send to the broadcast queue (its sendsTo) and to its own DLQ (its on-failure destination)', () => {
    const sqsStatements = statementsOf(s.backend, 'notify').filter((x) => JSON.stringify(x.Action).includes('sqs:'));
    expect(sqsStatements).toHaveLength(2);
    // CDK's grant to a sender: send (which also authorizes SendMessageBatch), plus the two reads it needs.
    for (const st of sqsStatements) {
      expect(([] as string[]).concat(st.Action).sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    }
    expect(sqsStatements.map((x) => x.Resource)).toEqual(expect.arrayContaining([queueArn('BroadcastShardsQueue'), queueArn('NotifyDlq')]));
  });

  test('no function but notify may send to the broadcast queue; no function may send to any other work queue', () => {
    for (const name of FUNCTION_NAMES) {
      const sends = statementsOf(s.backend, name).filter((x) => [].concat(x.Action).includes('sqs:SendMessage' as never));
      const onBroadcast = sends.filter((x) => JSON.stringify(x.Resource).includes('"BroadcastShardsQueue'));
      expect({ name, sendsToBroadcast: onBroadcast.length }).toEqual({ name, sendsToBroadcast: name === 'notify' ? 1 : 0 });
      for (const x of sends) expect(JSON.stringify(x.Resource)).not.toMatch(/NoteCreatedQueue|BroadcastShardsDlq|NoteCreatedDlq/);
    }
  });

  test.each([...FUNCTION_NAMES])('%s: no other service actions than logs and its own (no X-Ray by default)', (name) => {
    const st = statementsOf(s.backend, name);
    const services = new Set(st.flatMap((x) => [].concat(x.Action)).map((a: string) => a.split(':')[0]));
    const allowed = new Set(['logs', 'dynamodb', 'events', 'secretsmanager']);
    if (name === 'save-note') allowed.add('sqs');
    if (name === 'notify') {
      allowed.add('execute-api');
      allowed.add('sqs');
    }
    if (name === 'broadcast') {
      allowed.add('execute-api');
      allowed.add('sqs');
    }
    for (const svc of services) expect(allowed).toContain(svc);
    // Logs: only its own log group.
    for (const x of st.filter((x) => JSON.stringify(x.Action).includes('logs:'))) {
      expect(x.Resource).toEqual({ 'Fn::GetAtt': [functionProps(s.backend, name).LoggingConfig.LogGroup.Ref, 'Arn'] });
    }
  });

  test('no function role has a managed policy', () => {
    for (const name of FUNCTION_NAMES) {
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

  test.each([
    ['save-note', 'NoteCreatedQueue'],
    ['broadcast', 'BroadcastShardsQueue'],
  ])('%s consumes its queue (%s), and only that one; it sends to none', (name, queue) => {
    const sqsStatements = statementsOf(s.backend, name).filter((x) => JSON.stringify(x.Action).includes('sqs:'));
    expect(actionsOf(sqsStatements, 'sqs:')).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
    );
    expect(actionsOf(sqsStatements, 'sqs:')).not.toContain('sqs:SendMessage');
    for (const x of sqsStatements) expect(x.Resource).toEqual(queueArn(queue));
  });

  test.each(['notify', 'broadcast'])('%s may ManageConnections on its WebSocket API stage only (POST @connections)', (name) => {
    const st = statementsOf(s.backend, name).filter((x) => x.Action === 'execute-api:ManageConnections');
    expect(st).toHaveLength(1);
    expect(JSON.stringify(st[0].Resource)).toMatch(/WebSocketApi.*\/prod\/POST\/@connections\/\*/);
  });

  test('only notify and broadcast may ManageConnections', () => {
    for (const name of FUNCTION_NAMES) {
      const manages = actionsOf(statementsOf(s.backend, name), 'execute-api:').length > 0;
      expect({ name, manages }).toEqual({ name, manages: ['notify', 'broadcast'].includes(name) });
    }
  });
});

describe('HTTP API', () => {
  // The nine routes of the contract (section 1), written out here, independently of topology.json.
  const routes: Array<[string, string]> = [
    ['POST /auth/signup', 'signup'],
    ['POST /auth/login', 'login'],
    ['GET /auth/user', 'get-user'],
    ['POST /notes', 'publish-note'],
    ['GET /notes', 'get-notes'],
    ['GET /notes/public', 'get-public-notes'],
    ['GET /notes/{noteId}', 'get-note'],
    ['PUT /notes/{noteId}', 'update-note'],
    ['DELETE /notes/{noteId}', 'delete-note'],
  ];
  test('topology.json declares the nine routes of the contract, and the app reads them from it', () => {
    const declared = httpRoutes(loadTopology()).map((r) => [`${r.method} ${r.path}`, r.fn]);
    expect(declared.sort()).toEqual([...routes].sort());
  });

  test('exactly the routes of the contract', () => {
    const keys = Object.values(s.backend.findResources('AWS::ApiGatewayV2::Route'))
      .map((r: any) => r.Properties.RouteKey)
      .filter((k: string) => !k.startsWith('$'));
    expect(keys.sort()).toEqual(routes.map(([k]) => k).sort());
  });

  test.each(routes)('%s -> %s (Lambda proxy, payload 2.0, no API Gateway authorizer)', (routeKey, fn) => {
    const route = Object.values(s.backend.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }))[0] as any;
    expect(route.Properties.AuthorizationType).toBe('NONE');
    const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref;
    const integration = s.backend.findResources('AWS::ApiGatewayV2::Integration')[integrationId] as any;
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
  test('$connect, $disconnect and $default routes to their functions', () => {
    const want: Record<string, string> = { $connect: 'connect', $disconnect: 'disconnect', $default: 'ws-default' };
    for (const [key, fn] of Object.entries(want)) {
      const route = Object.values(s.backend.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: key } }))[0] as any;
      const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref;
      const integration = s.backend.findResources('AWS::ApiGatewayV2::Integration')[integrationId] as any;
      expect(JSON.stringify(integration.Properties.IntegrationUri)).toContain(functionLogicalId(s.backend, fn));
    }
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
  test('single table: pk/sk strings (and the feed index keys feedPk/feedSk), on demand, PITR, TTL on ttl', () => {
    s.data.resourceCountIs('AWS::DynamoDB::Table', 1);
    s.data.hasResourceProperties('AWS::DynamoDB::Table', {
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'feedPk', AttributeType: 'S' },
        { AttributeName: 'feedSk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
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

  test('every queue has SSE and a policy that denies non-TLS requests', () => {
    const queues = s.backend.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(6);
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

  test('the note-created rule may send to the queue, the notify rule to its DLQ', () => {
    const policies = JSON.stringify(s.backend.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toMatch(/"Service":"events.amazonaws.com"/);
    expect(policies).toContain('NoteCreatedRule');
    expect(policies).toContain('NoteResultsRule');
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
  test('DLQ alarms, oldest message age alarm, errors and throttles per function', () => {
    const alarms = Object.values(s.backend.findResources('AWS::CloudWatch::Alarm')) as any[];
    const metric = (name: string) => alarms.filter((a) => a.Properties.MetricName === name);
    const visible = metric('ApproximateNumberOfMessagesVisible');
    expect(visible.map((a) => a.Properties.Dimensions[0].Value['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(
      ['BroadcastShardsDlq', 'NoteCreatedDlq', 'NoteCreatedRuleDlq', 'NotifyDlq'],
    );
    for (const a of visible) {
      expect(a.Properties.Threshold).toBe(0);
      expect(a.Properties.ComparisonOperator).toBe('GreaterThanThreshold');
    }
    // The age of each work queue's oldest message: note-created over 5 minutes for 3 minutes, broadcast over a minute.
    const ages = metric('ApproximateAgeOfOldestMessage');
    expect(ages).toHaveLength(2);
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
    for (const name of FUNCTION_NAMES) {
      const id = functionLogicalId(s.backend, name);
      for (const m of ['Errors', 'Throttles']) {
        expect(metric(m).filter((a) => JSON.stringify(a.Properties.Dimensions).includes(`"${id}"`))).toHaveLength(1);
      }
    }
    // 4 DLQs, 2 queue ages, dead-lettered records, HTTP 5xx, 2 rules, notify's destination, 2 per function.
    expect(alarms).toHaveLength(4 + 2 + 1 + 1 + 2 + 1 + 2 * FUNCTION_NAMES.length);
  });

  test('a CloudWatch dashboard', () => {
    s.backend.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('architecture', () => {
  test('arm64 by default; -c arch=x86_64 builds every function for x86_64', () => {
    for (const name of FUNCTION_NAMES) expect(functionProps(s.backend, name).Architectures).toEqual(['arm64']);
    const t = synth({ arch: 'x86_64' }).backend;
    for (const name of FUNCTION_NAMES) expect(functionProps(t, name).Architectures).toEqual(['x86_64']);
  });
});

describe('outputs', () => {
  test('backend outputs the API URLs; frontend outputs the site URL', () => {
    s.backend.hasOutput('HttpApiUrl', {});
    s.backend.hasOutput('WebSocketUrl', {});
    for (const name of [
      'EventBusArn', 'EventArchiveArn', 'NoteCreatedQueueUrl', 'NoteCreatedDlqUrl', 'NoteCreatedRuleDlqUrl', 'NotifyDlqUrl',
      'BroadcastShardsQueueUrl', 'AlarmTopicArn',
    ]) {
      s.backend.hasOutput(name, {});
    }
    s.backend.hasOutput('BroadcastShardsDlqUrl', { Value: { Ref: Match.stringLikeRegexp('^BroadcastShardsDlq[0-9A-F]{8}$') } });
    s.frontend.hasOutput('SiteUrl', {});
  });
});
