import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import {
  DEAD_LETTER_QUEUES,
  FUNCTIONS,
  HTTP_ROUTES,
  RULES,
  STREAM_TRIGGERED,
  consumerOf,
  declaration,
  declared,
  functionsWhere,
  idOfKey,
  kebabOfKey,
} from './declaration';
import { functionLogicalId, synth, Synthesized } from './synthesize';

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

const alarms = (t: Template) => Object.entries(t.findResources('AWS::CloudWatch::Alarm')) as Array<[string, any]>;
const topicId = (t: Template) => Object.keys(t.findResources('AWS::SNS::Topic'))[0];

describe('alarms reach someone', () => {
  test('one SNS topic, notes-<stage>-alarms, encrypted with a rotated customer managed key, TLS only', () => {
    s.backend.resourceCountIs('AWS::SNS::Topic', 1);
    s.backend.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'notes-dev-alarms',
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('AlarmTopicKey'), 'Arn'] },
    });
    s.backend.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const policy = JSON.stringify(s.backend.findResources('AWS::SNS::TopicPolicy'));
    expect(policy).toMatch(/"aws:SecureTransport":"false"/);
  });

  test('CloudWatch may use the topic key (it cannot publish to an encrypted topic otherwise), for nothing else', () => {
    const key = Object.values(s.backend.findResources('AWS::KMS::Key'))[0] as any;
    const forCloudWatch = key.Properties.KeyPolicy.Statement.filter(
      (x: any) => x.Principal?.Service === 'cloudwatch.amazonaws.com',
    );
    expect(forCloudWatch).toHaveLength(1);
    expect([].concat(forCloudWatch[0].Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
  });

  test('every alarm notifies the topic when it fires and when it recovers', () => {
    const all = alarms(s.backend);
    expect(all.length).toBeGreaterThan(0);
    for (const [id, a] of all) {
      expect({ id, actions: a.Properties.AlarmActions }).toEqual({ id, actions: [{ Ref: topicId(s.backend) }] });
      expect({ id, actions: a.Properties.OKActions }).toEqual({ id, actions: [{ Ref: topicId(s.backend) }] });
      expect(a.Properties.AlarmName).toMatch(/^notes-dev-/);
    }
  });

  test('-c alarmEmail subscribes that address to the topic; without it there is no subscription', () => {
    s.backend.resourceCountIs('AWS::SNS::Subscription', 0);
    const t = synth({ alarmEmail: 'ops@example.com' }).backend;
    t.resourceCountIs('AWS::SNS::Subscription', 1);
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId(t) },
    });
  });

  const byMetric = (namespace: string, metricName: string) =>
    alarms(s.backend)
      .map(([, a]) => a.Properties)
      .filter((p) => p.Namespace === namespace && p.MetricName === metricName);

  test('HTTP API 5xx', () => {
    const [a, ...rest] = byMetric('AWS/ApiGateway', '5xx');
    expect(rest).toHaveLength(0);
    expect(a.Dimensions).toEqual([{ Name: 'ApiId', Value: { Ref: expect.stringMatching(/^HttpApi/) } }]);
    expect(a).toMatchObject({ Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  test("the dead-letter metric of the note-created queue's consumer (EMF: NotesSuite / NoteRecordsDeadLettered / service=<it>)", () => {
    // The queue the rule for note-created events delivers to, and the function its event source feeds.
    const [rule] = RULES.filter((key) => declaration.rules[key].eventPattern['detail-type'].includes('note-created'));
    const [a, ...rest] = byMetric('NotesSuite', 'NoteRecordsDeadLettered');
    expect(rest).toHaveLength(0);
    expect(a.Dimensions).toEqual([{ Name: 'service', Value: consumerOf(declaration.rules[rule].target) }]);
    expect(a).toMatchObject({ Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  test("each rule's FailedInvocations (custom bus: EventBusName and RuleName)", () => {
    const found = byMetric('AWS/Events', 'FailedInvocations');
    const rules = Object.keys(s.backend.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(RULES.length);
    expect(found).toHaveLength(rules.length);
    for (const ruleId of rules) {
      const a = found.find((p) => JSON.stringify(p.Dimensions).includes(`"${ruleId}"`));
      expect(a).toBeDefined();
      expect(a.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'EventBusName', Value: { Ref: expect.stringMatching(/^EventBus/) } },
          { Name: 'RuleName', Value: { Ref: ruleId } },
        ]),
      );
    }
  });

  test('DestinationDeliveryFailures of each function a rule invokes or a stream mapping feeds (its on-failure destination could not be reached)', () => {
    const found = byMetric('AWS/Lambda', 'DestinationDeliveryFailures');
    const withDestination = functionsWhere((f) => f.trigger.rule !== undefined || f.trigger.stream !== undefined);
    expect(functionsWhere((f) => f.trigger.rule !== undefined).length).toBeGreaterThan(0);
    const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect(found.map((a) => a.Dimensions).sort(byJson)).toEqual(
      withDestination.map((name) => [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(s.backend, name) } }]).sort(byJson),
    );
    for (const a of found) expect(a).toMatchObject({ Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  test.each(STREAM_TRIGGERED)(
    "%s: its IteratorAge (Maximum, ms) over a minute for 5 minutes fires an alarm that reaches the topic, long before its records are given up",
    (fn, key) => {
      const mapping = declaration.streams[key];
      const found = byMetric('AWS/Lambda', 'IteratorAge').filter(
        (p) => JSON.stringify(p.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: functionLogicalId(s.backend, fn) } }]),
      );
      expect(found).toHaveLength(1);
      const [a] = found;
      expect(a).toMatchObject({
        AlarmName: `notes-dev-${fn}-iterator-age`,
        Statistic: 'Maximum',
        Period: 60,
        // IteratorAge is in milliseconds.
        Threshold: 60_000,
        EvaluationPeriods: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId(s.backend) }],
        OKActions: [{ Ref: topicId(s.backend) }],
      });
      // It fires while the records are still to be published: far below the mapping's record age limit.
      expect(a.Threshold / 1000 + 60 * a.EvaluationPeriods).toBeLessThan(mapping.maximumRecordAgeSeconds);
    },
  );

  test.each(STREAM_TRIGGERED)("%s: a message on its stream mapping's on-failure queue (any visible) fires an alarm that reaches the topic", (fn, key, onFailure) => {
    const found = alarms(s.backend).filter(([, x]) => x.Properties.AlarmName === `notes-dev-${kebabOfKey(onFailure)}-not-empty`);
    expect(found).toHaveLength(1);
    const [[, a]] = found;
    expect(a.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(`^${idOfKey(onFailure)}[0-9A-F]{8}$`), 'QueueName'] } }],
      AlarmActions: [{ Ref: topicId(s.backend) }],
      OKActions: [{ Ref: topicId(s.backend) }],
    });
    expect(a.Properties.AlarmDescription).toContain(fn);
    expect(declaration.streams[key].onFailure).toBe(onFailure);
  });

  test.each(DEAD_LETTER_QUEUES)('dead-letter queue %s not empty fires an alarm that reaches the topic', (key) => {
    const name = `notes-dev-${kebabOfKey(key)}-not-empty`;
    const found = alarms(s.backend).filter(([, x]) => x.Properties.AlarmName === name);
    expect(found).toHaveLength(1);
    const [[id, a]] = found;
    expect(a.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(`^${idOfKey(key)}[0-9A-F]{8}$`), 'QueueName'] } }],
    });
    expect({ id, actions: a.Properties.AlarmActions }).toEqual({ id, actions: [{ Ref: topicId(s.backend) }] });
    expect({ id, actions: a.Properties.OKActions }).toEqual({ id, actions: [{ Ref: topicId(s.backend) }] });
  });

  test('a broadcast waiting more than 60 s (live-feed pushes are late) fires an alarm that reaches the topic', () => {
    const [, a] = alarms(s.backend).find(([, x]) => x.Properties.AlarmName === 'notes-dev-broadcast-shards-oldest-message-age')!;
    expect(a.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Threshold: 60,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^BroadcastShardsQueue/), 'QueueName'] } }],
      AlarmActions: [{ Ref: topicId(s.backend) }],
    });
    expect(a.Properties.AlarmDescription).toMatch(/live-feed pushes are late/);
  });
});

describe('data', () => {
  test('the table has deletion protection and is retained', () => {
    const [table] = Object.values(s.data.findResources('AWS::DynamoDB::Table')) as any[];
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });
});

describe('throttling of the argon2 routes', () => {
  const argon2Keys = HTTP_ROUTES.filter(([, fn]) => declared(fn).hashesPasswords).map(([key]) => key);

  test('the routes of the functions declared with hashesPasswords have route throttling tighter than the stage default', () => {
    expect(argon2Keys.length).toBeGreaterThan(0);
    const [stage] = Object.values(
      s.backend.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: '$default' } }),
    ) as any[];
    const settings = stage.Properties.RouteSettings;
    expect(Object.keys(settings).sort()).toEqual(argon2Keys.sort());
    for (const key of argon2Keys) {
      expect(settings[key]).toEqual({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 });
      expect(settings[key].ThrottlingRateLimit).toBeLessThan(stage.Properties.DefaultRouteSettings.ThrottlingRateLimit);
      expect(settings[key].ThrottlingBurstLimit).toBeLessThan(stage.Properties.DefaultRouteSettings.ThrottlingBurstLimit);
    }
  });

  test('the stage is created after the routes its settings name (CloudFormation refuses unknown route keys)', () => {
    const [stage] = Object.values(
      s.backend.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: '$default' } }),
    ) as any[];
    const routes = s.backend.findResources('AWS::ApiGatewayV2::Route');
    for (const key of argon2Keys) {
      const [routeId] = Object.entries(routes).find(([, r]: [string, any]) => r.Properties.RouteKey === key)!;
      expect(stage.DependsOn).toContain(routeId);
    }
  });

  test('comes from context', () => {
    const t = synth({ authThrottleRateLimit: 2, authThrottleBurstLimit: 3 }).backend;
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      RouteSettings: Object.fromEntries(argon2Keys.map((key) => [key, { ThrottlingRateLimit: 2, ThrottlingBurstLimit: 3 }])),
    });
  });
});

describe('stages: two environments in one account', () => {
  // Properties that name a resource (CloudFormation generates the name when they are absent, from
  // the stack name, which carries the stage).
  const NAME_PROPERTIES = [
    'TableName', 'QueueName', 'FunctionName', 'EventBusName', 'Name', 'ArchiveName', 'RegistryName', 'AlarmName',
    'TopicName', 'DashboardName', 'LogGroupName', 'RoleName', 'BucketName', 'AliasName',
  ];
  // Resource types whose name is set explicitly, so an operator finds them by stage.
  const NAMED_TYPES: Record<string, string> = {
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::SQS::Queue': 'QueueName',
    'AWS::Events::EventBus': 'Name',
    'AWS::Events::Rule': 'Name',
    'AWS::Events::Archive': 'ArchiveName',
    'AWS::EventSchemas::Registry': 'RegistryName',
    'AWS::ApiGatewayV2::Api': 'Name',
    'AWS::Logs::LogGroup': 'LogGroupName',
    'AWS::CloudWatch::Alarm': 'AlarmName',
    'AWS::CloudWatch::Dashboard': 'DashboardName',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::KMS::Alias': 'AliasName',
  };

  function namesOf(x: Synthesized): string[] {
    const names: string[] = [];
    for (const stack of [x.stacks.data, x.stacks.frontend, x.stacks.backend, x.stacks.site]) {
      const t = Template.fromStack(stack).toJSON();
      for (const [id, r] of Object.entries<any>(t.Resources)) {
        // aws-cdk-lib's own singleton handlers (S3 auto-delete, BucketDeployment) keep generated names,
        // which start with the stack name, so carry the stage too.
        const named = id.startsWith('Custom') ? undefined : NAMED_TYPES[r.Type];
        if (named) expect({ id, name: r.Properties?.[named] }).toEqual({ id, name: expect.anything() });
        for (const p of NAME_PROPERTIES) {
          const v = r.Properties?.[p];
          // A Ref or GetAtt names another resource (a rule's bus, a permission's function): not a name given here.
          if (v === undefined || v.Ref || v['Fn::GetAtt'] || r.Type === 'AWS::EventSchemas::Schema') continue;
          names.push(JSON.stringify(v));
        }
      }
      for (const o of Object.values<any>(t.Outputs ?? {})) if (o.Export) names.push(JSON.stringify(o.Export.Name));
    }
    return names;
  }

  test('every stack is notes-<stage>-<part>', () => {
    expect([s.stacks.data, s.stacks.frontend, s.stacks.backend, s.stacks.site].map((x) => x.stackName)).toEqual([
      'notes-dev-data',
      'notes-dev-frontend',
      'notes-dev-backend',
      'notes-dev-site',
    ]);
  });

  test('every resource name the app sets starts with notes-<stage> (log groups: after their service prefix)', () => {
    const names = namesOf(s);
    expect(names.length).toBeGreaterThan(50);
    for (const n of names) expect(n).toMatch(/^"(\/aws\/(lambda|apigateway)\/|alias\/)?notes-dev-|^\{"Fn::Join":\["",\["notes-dev-/);
  });

  test('two stages share no resource name and no export name', () => {
    const prod = synth({ stage: 'prod' });
    expect(prod.stacks.backend.stackName).toBe('notes-prod-backend');
    const dev = new Set(namesOf(s));
    const clash = namesOf(prod).filter((n) => dev.has(n));
    expect(clash).toEqual([]);
    expect(functionsOf(prod)).toEqual(FUNCTIONS.map((n) => `notes-prod-${n}`).sort());
  });

  function functionsOf(x: Synthesized): string[] {
    return (Object.values(x.backend.findResources('AWS::Lambda::Function')) as any[])
      .map((f) => f.Properties.FunctionName)
      .sort();
  }
});

describe('custom domain', () => {
  const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-1111-2222-333344445555';
  let d: Synthesized;
  beforeAll(() => {
    d = synth({ domainName: 'notes.example.com', certificateArn: arn, hostedZoneId: 'Z0123456789ABC', hostedZoneName: 'example.com' });
  });

  test('the distribution answers on the domain with its certificate, TLS 1.2 at least, SNI', () => {
    d.frontend.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['notes.example.com'],
        ViewerCertificate: { AcmCertificateArn: arn, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' },
      }),
    });
  });

  test('alias records (A and AAAA) in the hosted zone point at the distribution', () => {
    for (const type of ['A', 'AAAA']) {
      d.frontend.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: 'notes.example.com.',
        Type: type,
        HostedZoneId: 'Z0123456789ABC',
        AliasTarget: Match.objectLike({ DNSName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Distribution'), 'DomainName'] } }),
      });
    }
  });

  test('the site URL is the domain; CORS allows it and the distribution domain', () => {
    d.frontend.hasOutput('SiteUrl', { Value: 'https://notes.example.com' });
    const api = Object.values(d.backend.findResources('AWS::ApiGatewayV2::Api', { Properties: { ProtocolType: 'HTTP' } }))[0] as any;
    expect(api.Properties.CorsConfiguration.AllowOrigins).toEqual(
      expect.arrayContaining(['https://notes.example.com', { 'Fn::Join': ['', ['https://', expect.anything()]] }]),
    );
  });

  test('no TLS suppression with a domain: cdk-nag finds nothing to report', () => {
    const dist = Object.values(d.frontend.findResources('AWS::CloudFront::Distribution'))[0] as any;
    const suppressed = (dist.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((r: any) => r.id);
    expect(suppressed).not.toContain('AwsSolutions-CFR4');
    const findings = [
      ...Annotations.fromStack(d.stacks.frontend).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...Annotations.fromStack(d.stacks.frontend).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ];
    expect(findings.map((f) => f.entry.data)).toEqual([]);
  });

  test('without a domain: no alias, no records, the default certificate (its TLS suppression documented)', () => {
    const dist = Object.values(s.frontend.findResources('AWS::CloudFront::Distribution'))[0] as any;
    expect(dist.Properties.DistributionConfig.Aliases).toBeUndefined();
    s.frontend.resourceCountIs('AWS::Route53::RecordSet', 0);
    expect((dist.Metadata.cdk_nag.rules_to_suppress as any[]).map((r) => r.id)).toContain('AwsSolutions-CFR4');
  });
});
