import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { REPO_DIR, workspaceManifest } from '../lib/config';
import { FUNCTIONS } from './declaration';
import { synth } from './synthesize';

// cargo-lambda-cdk's bundling (not exported from its index): spied on to see what each function is
// built from, and instantiated to see the command its Docker fallback runs.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Bundling } = require('cargo-lambda-cdk/lib/bundling');

interface BundleCall {
  manifestPath: string;
  binaryName?: string;
  architecture: lambda.Architecture;
}

function bundleCalls(context: Record<string, unknown> = {}): BundleCall[] {
  const spy = jest.spyOn(Bundling, 'bundle');
  try {
    synth(context);
    return spy.mock.calls.map((c) => c[0] as BundleCall);
  } finally {
    spy.mockRestore();
  }
}

describe('cargo-lambda-cdk builds every function from the workspace', () => {
  let calls: BundleCall[];
  beforeAll(() => {
    calls = bundleCalls();
  });

  test('manifestPath is the workspace root, binaryName the function (what cargo-lambda-cdk advises for workspaces)', () => {
    expect(calls.map((c) => c.binaryName).sort()).toEqual([...FUNCTIONS].sort());
    for (const c of calls) expect(c.manifestPath).toBe(workspaceManifest(REPO_DIR));
  });

  test('the Docker fallback mounts the whole workspace and runs cargo lambda build --bin <name> in it', () => {
    for (const c of calls) {
      // The bundling input (what Docker mounts) is the folder of the manifest, as Bundling.bundle
      // computes it: the workspace, so every member and the lock file are there, and every function
      // shares one target directory.
      const projectRoot = path.dirname(c.manifestPath);
      expect(projectRoot).toBe(REPO_DIR);
      const bundling = new Bundling(projectRoot, { ...c, forcedDockerBundling: true });
      expect(bundling.command).toEqual([
        'bash',
        '-c',
        `cargo lambda build --lambda-dir /asset-output --release --arm64 --bin ${c.binaryName} --flatten ${c.binaryName}`,
      ]);
    }
  });

  test('arm64 by default; -c arch=x86_64 builds for x86_64', () => {
    for (const c of calls) expect(c.architecture).toBe(lambda.Architecture.ARM_64);
    for (const c of bundleCalls({ arch: 'x86_64' })) expect(c.architecture).toBe(lambda.Architecture.X86_64);
  });
});
