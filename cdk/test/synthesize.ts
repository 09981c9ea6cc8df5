import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FUNCTION_NAMES, REPO_DIR, crateManifest } from '../lib/config';
import { NotesStacks, buildNotesApp, buildSamLocalApp } from '../lib/notes-app';
import { SamLocalStack } from '../lib/sam-local-stack';

export function missingCrates(workspace: string = REPO_DIR): string[] {
  return FUNCTION_NAMES.filter((n) => !fs.existsSync(crateManifest(workspace, n)));
}

/**
 * RustFunction reads the workspace's root Cargo.toml at synth time (even with bundling skipped);
 * the tests synthesize against the repository's workspace and fail, naming them, if a crate is missing.
 */
export function workspaceForTests(): string {
  const missing = missingCrates();
  if (missing.length > 0) {
    throw new Error(`function crates missing under ${REPO_DIR}/functions: ${missing.join(', ')}`);
  }
  return REPO_DIR;
}

/** A tiny stand-in for ../frontend/build, so tests do not depend on a frontend build. */
export function fakeFrontendBuild(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notes-cdk-frontend-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>notes</title>');
  return dir;
}

export interface Synthesized {
  readonly app: App;
  readonly stacks: NotesStacks;
  readonly data: Template;
  readonly frontend: Template;
  readonly backend: Template;
  readonly site: Template;
}

function testApp(context: Record<string, unknown>): App {
  return new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'notes-cdk-out-')),
    context: {
      'aws:cdk:bundling-stacks': [],
      cargoWorkspace: workspaceForTests(),
      frontendBuildDir: path.join(os.tmpdir(), 'notes-cdk-no-frontend-build'),
      allowedOrigins: 'http://localhost:5173',
      ...context,
    },
  });
}

/** Synthesizes the whole app with cargo-lambda bundling skipped (no Rust build). */
export function synth(context: Record<string, unknown> = {}): Synthesized {
  const app = testApp(context);
  const stacks = buildNotesApp(app);
  return {
    app,
    stacks,
    data: Template.fromStack(stacks.data),
    frontend: Template.fromStack(stacks.frontend),
    backend: Template.fromStack(stacks.backend),
    site: Template.fromStack(stacks.site),
  };
}

export interface SynthesizedSam {
  readonly app: App;
  readonly stack: SamLocalStack;
  readonly template: Template;
}

/** Synthesizes the SAM CLI's local-testing stack (`-c sam=true`), bundling skipped. */
export function synthSam(context: Record<string, unknown> = {}): SynthesizedSam {
  const app = testApp({ sam: 'true', allowedOrigins: '', ...context });
  const stack = buildSamLocalApp(app);
  return { app, stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties?: any; DependsOn?: string[] }>;

/** Logical id of the Lambda function of the given suite function name. */
export function functionLogicalId(t: Template, name: string): string {
  const found = Object.entries(t.findResources('AWS::Lambda::Function') as Resources).filter(
    ([, r]) => r.Properties?.Description === `notes suite: ${name}`,
  );
  if (found.length !== 1) throw new Error(`expected one function '${name}', found ${found.length}`);
  return found[0][0];
}

export function functionProps(t: Template, name: string): any {
  return (t.findResources('AWS::Lambda::Function') as Resources)[functionLogicalId(t, name)].Properties;
}

/** Every IAM statement attached to the execution role of a suite function. */
export function statementsOf(t: Template, name: string): any[] {
  const roleId = functionProps(t, name).Role['Fn::GetAtt'][0];
  const statements: any[] = [];
  for (const policy of Object.values(t.findResources('AWS::IAM::Policy') as Resources)) {
    const roles = (policy.Properties.Roles ?? []).map((r: any) => r.Ref);
    if (roles.includes(roleId)) statements.push(...policy.Properties.PolicyDocument.Statement);
  }
  const role = (t.findResources('AWS::IAM::Role') as Resources)[roleId];
  for (const p of role.Properties.Policies ?? []) statements.push(...p.PolicyDocument.Statement);
  return statements;
}

export function actionsOf(statements: any[], prefix: string): string[] {
  const all = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  return [...new Set(all.filter((a: string) => a.startsWith(prefix)))].sort();
}
