#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/notes-app';

// Context (README, "Deploy"): -c stage=prod, -c arch=x86_64 (default arm64),
// -c allowedOrigins=https://a.example,http://localhost:5173, -c alarmEmail=…, -c domainName=… …
// `-c sam=true` synthesizes only the SAM CLI's local-testing stack (README, "Local testing").
//
// `-c skipBundling=true` (or SKIP_RUST_BUNDLING=1) synthesizes without building the Rust functions
// (cargo lambda): the templates are complete, the function code assets are placeholders. The CLI
// refuses user context keys starting with `aws:`, so this sets aws:cdk:bundling-stacks to [] after it.
function skipBundling(): boolean {
  if (process.env.SKIP_RUST_BUNDLING === '1') return true;
  try {
    const ctx = JSON.parse(process.env.CDK_CONTEXT_JSON ?? '{}');
    return ctx.skipBundling === true || ctx.skipBundling === 'true';
  } catch {
    return false;
  }
}

const app = new App(skipBundling() ? { postCliContext: { 'aws:cdk:bundling-stacks': [] } } : {});
buildApp(app);
app.synth();
