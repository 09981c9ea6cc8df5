import { App, Aspects, StackProps, Tags } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BackendStack } from './backend-stack';
import { AppSettings, Topology, loadTopology, readSettings } from './config';
import { DataStack } from './data-stack';
import { FrontendStack } from './frontend-stack';
import { stackName } from './naming';
import { PruneRedundantLambdaDependsOn } from './prune-depends-on';
import { SamLocalStack } from './sam-local-stack';
import { SiteStack } from './site-stack';

const CROSS_STACK_REFERENCES = '@aws-cdk/core:defaultCrossStackReferences';

export interface NotesStacks {
  readonly settings: AppSettings;
  readonly data: DataStack;
  readonly frontend: FrontendStack;
  readonly backend: BackendStack;
  readonly site: SiteStack;
}

export interface BuildOptions {
  readonly topology?: Topology;
  /** Run the cdk-nag AwsSolutions pack (default true). */
  readonly nag?: boolean;
  readonly stackProps?: StackProps;
}

function common(app: App, options: BuildOptions) {
  // Cross-stack references are plain CloudFormation exports/imports (stated, so CDK does not warn).
  if (app.node.tryGetContext(CROSS_STACK_REFERENCES) === undefined) {
    app.node.setContext(CROSS_STACK_REFERENCES, 'strong');
  }
  Aspects.of(app).add(new PruneRedundantLambdaDependsOn());
  if (options.nag ?? true) Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  // Environment-agnostic stacks: `cdk deploy` targets the account and region of the caller's
  // credentials/profile; nothing here needs a context lookup.
  return { topology: options.topology ?? loadTopology(), settings: readSettings(app.node), base: { ...options.stackProps } };
}

/**
 * Builds the four stacks of the suite into `app`, each named `notes-<stage>-<part>`:
 *   data (table, JWT secret) -> frontend (bucket, CloudFront) -> backend (events, queues,
 *   functions, APIs, monitoring) -> site (build + /config.json).
 */
export function buildNotesApp(app: App, options: BuildOptions = {}): NotesStacks {
  const { topology, settings, base } = common(app, options);
  if (settings.samLocal) throw new Error("context 'sam' is set: build the SAM CLI's stack with buildSamLocalApp");
  const { stage } = settings;

  const data = new DataStack(app, stackName(stage, 'data'), {
    ...base,
    description: `Notes suite (${stage}): single DynamoDB table and JWT signing secret`,
    topology,
  });
  const frontend = new FrontendStack(app, stackName(stage, 'frontend'), {
    ...base,
    description: `Notes suite (${stage}): frontend hosting (S3 + CloudFront with OAC)`,
    settings,
  });
  const backend = new BackendStack(app, stackName(stage, 'backend'), {
    ...base,
    description: `Notes suite (${stage}): event bus, queues, Rust Lambda functions, HTTP and WebSocket APIs, alarms`,
    topology,
    settings,
    table: data.table,
    jwtSecret: data.jwtSecret,
    siteOrigins: frontend.siteOrigins,
  });
  const site = new SiteStack(app, stackName(stage, 'site'), {
    ...base,
    description: `Notes suite (${stage}): frontend build and runtime /config.json`,
    bucket: frontend.bucket,
    distribution: frontend.distribution,
    frontendBuildDir: settings.frontendBuildDir,
    apiUrl: backend.httpApiUrl,
    wsUrl: backend.wsUrl,
  });

  for (const stack of [data, frontend, backend, site]) {
    Tags.of(stack).add('project', 'notes-suite');
    Tags.of(stack).add('stage', stage);
  }
  return { settings, data, frontend, backend, site };
}

/** `-c sam=true`: only the SAM CLI's local-testing stack, `notes-<stage>-sam` (stage `local` by default). */
export function buildSamLocalApp(app: App, options: BuildOptions = {}): SamLocalStack {
  const { topology, settings, base } = common(app, options);
  if (!settings.samLocal) throw new Error("buildSamLocalApp needs context 'sam' = true");
  return new SamLocalStack(app, stackName(settings.stage, 'sam'), {
    ...base,
    description: `Notes suite (${settings.stage}): functions and HTTP API for the SAM CLI's local testing (never deployed)`,
    topology,
    settings,
  });
}

/** The app `cdk` runs: the deployable stacks, or with `-c sam=true` the SAM CLI's stack. */
export function buildApp(app: App, options: BuildOptions = {}): void {
  const sam = app.node.tryGetContext('sam');
  if (sam === true || sam === 'true') buildSamLocalApp(app, options);
  else buildNotesApp(app, options);
}
