import { App, Aspects, StackProps, Tags } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BackendStack } from './backend-stack';
import { Topology, loadTopology, readSettings } from './config';
import { DataStack } from './data-stack';
import { FrontendStack } from './frontend-stack';
import { SiteStack } from './site-stack';
import { PruneRedundantLambdaDependsOn } from './prune-depends-on';

const CROSS_STACK_REFERENCES = '@aws-cdk/core:defaultCrossStackReferences';

export interface NotesStacks {
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

/**
 * Builds the four stacks of the suite into `app`:
 *   NotesData (table, JWT secret) -> NotesFrontend (bucket, CloudFront)
 *   -> NotesBackend (events, queues, functions, APIs, monitoring) -> NotesSite (build + /config.json).
 */
export function buildNotesApp(app: App, options: BuildOptions = {}): NotesStacks {
  // Cross-stack references are plain CloudFormation exports/imports (stated, so CDK does not warn).
  if (app.node.tryGetContext(CROSS_STACK_REFERENCES) === undefined) {
    app.node.setContext(CROSS_STACK_REFERENCES, 'strong');
  }
  const topology = options.topology ?? loadTopology();
  const settings = readSettings(app.node);
  // Environment-agnostic stacks: `cdk deploy` targets the account and region of the caller's
  // credentials/profile; nothing here needs a context lookup.
  const base: StackProps = { ...options.stackProps };

  const data = new DataStack(app, 'NotesData', {
    ...base,
    description: 'Notes suite: single DynamoDB table and JWT signing secret',
    topology,
  });
  const frontend = new FrontendStack(app, 'NotesFrontend', {
    ...base,
    description: 'Notes suite: frontend hosting (S3 + CloudFront with OAC)',
  });
  const backend = new BackendStack(app, 'NotesBackend', {
    ...base,
    description: 'Notes suite: event bus, queues, Rust Lambda functions, HTTP and WebSocket APIs, alarms',
    topology,
    settings,
    table: data.table,
    jwtSecret: data.jwtSecret,
    siteOrigin: frontend.siteOrigin,
  });
  const site = new SiteStack(app, 'NotesSite', {
    ...base,
    description: 'Notes suite: frontend build and runtime /config.json',
    bucket: frontend.bucket,
    distribution: frontend.distribution,
    frontendBuildDir: settings.frontendBuildDir,
    apiUrl: backend.httpApiUrl,
    wsUrl: backend.wsUrl,
  });

  for (const stack of [data, frontend, backend, site]) Tags.of(stack).add('project', 'notes-suite');
  Aspects.of(app).add(new PruneRedundantLambdaDependsOn());
  if (options.nag ?? true) Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return { data, frontend, backend, site };
}
