import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { contentSecurityPolicy, inlineHashes, inlineHashesOfBuild, NO_INLINE } from '../lib/csp';
import { synth } from './synthesize';

// SHA-256 (base64) of "alert(1)" and of "display: contents", computed independently (openssl dgst).
const ALERT_HASH = "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='";
const DISPLAY_CONTENTS_HASH = "'sha256-tcbDxjMo+xKqM21aCGYbs/QAJqB7yUXC06oPWDapBgc='";

// And of the style attribute of a template in the build's JavaScript (SvelteKit's route announcer).
const ANNOUNCER_STYLE = 'position: absolute; left: 0; top: 0; clip: rect(0 0 0 0)';
// openssl dgst -sha256 -binary | base64 of ANNOUNCER_STYLE.
const ANNOUNCER_HASH = "'sha256-p1bddDOmchcNspb5UIY3yAZWCJyQzzcktj1hsf9QrXE='";

/**
 * A build shaped like SvelteKit's: an inline boot script inside a `style="display: contents"` div,
 * and a script whose template carries a style attribute.
 */
function buildWithInlineBoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notes-cdk-csp-build-'));
  fs.writeFileSync(
    path.join(dir, 'index.html'),
    '<!doctype html><html><head><script type="module" src="/_app/start.js"></script></head>' +
      '<body><div style="display: contents"><script>alert(1)</script></div></body></html>',
  );
  fs.mkdirSync(path.join(dir, '_app', 'immutable'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, '_app', 'immutable', 'app.js'),
    `var t = from_html('<div id="svelte-announcer" aria-live="assertive" style="${ANNOUNCER_STYLE}"></div>');`,
  );
  return dir;
}

const directives = (csp: string) =>
  Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));

describe('the Content-Security-Policy', () => {
  test('hashes exactly the inline script bodies and style attributes, not scripts loaded by src', () => {
    const html = fs.readFileSync(path.join(buildWithInlineBoot(), 'index.html'), 'utf-8');
    expect(inlineHashes(html)).toEqual({ scripts: [ALERT_HASH], styleAttributes: [DISPLAY_CONTENTS_HASH], styles: [] });
  });

  test("the build's script templates add their style attributes", () => {
    expect(inlineHashesOfBuild(buildWithInlineBoot())).toEqual({
      scripts: [ALERT_HASH],
      styleAttributes: [ANNOUNCER_HASH, DISPLAY_CONTENTS_HASH].sort(),
      styles: [],
    });
    expect(inlineHashesOfBuild(path.join(os.tmpdir(), 'notes-no-such-build'))).toEqual(NO_INLINE);
  });

  test('nothing inline runs unless hashed: no unsafe-inline, no unsafe-eval, default none', () => {
    const csp = contentSecurityPolicy({
      connectSources: ['https://api.example'],
      inline: { scripts: [ALERT_HASH], styleAttributes: [DISPLAY_CONTENTS_HASH], styles: [] },
    });
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*(?!\.)/);
    const d = directives(csp);
    expect(d['default-src']).toEqual(["'none'"]);
    expect(d['script-src']).toEqual(["'self'", ALERT_HASH]);
    expect(d['style-src']).toEqual(["'self'", "'unsafe-hashes'", DISPLAY_CONTENTS_HASH]);
    expect(d['connect-src']).toEqual(["'self'", 'https://api.example']);
    expect(d['frame-ancestors']).toEqual(["'none'"]);
    expect(d['object-src']).toEqual(["'none'"]);
    expect(d['base-uri']).toEqual(["'none'"]);
    // Without inline styles there is no reason for 'unsafe-hashes'.
    expect(directives(contentSecurityPolicy({ connectSources: [], inline: NO_INLINE }))['style-src']).toEqual(["'self'"]);
  });

  test('CloudFront sends it with every response: the app, config.json and the SPA fallback', () => {
    const s = synth({ frontendBuildDir: buildWithInlineBoot() });
    const policies = s.frontend.findResources('AWS::CloudFront::ResponseHeadersPolicy');
    expect(Object.keys(policies)).toHaveLength(1);
    const [policyId, policy] = Object.entries<any>(policies)[0];
    const header = policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy;
    expect(header.Override).toBe(true);
    // The region's execute-api hosts (the APIs are in a later stack), https and wss.
    const rendered = JSON.stringify(header.ContentSecurityPolicy);
    expect(rendered).toContain(ALERT_HASH);
    expect(rendered).toContain(DISPLAY_CONTENTS_HASH);
    expect(rendered).toContain(ANNOUNCER_HASH);
    // CloudFront takes at most 1783 characters for this header (with the longest region names).
    const joined = header.ContentSecurityPolicy['Fn::Join'][1]
      .map((p: any) => (typeof p === 'string' ? p : p.Ref === 'AWS::Region' ? 'ap-southeast-5' : 'amazonaws.com.cn'))
      .join('');
    expect(joined.length).toBeLessThanOrEqual(1783);
    expect(rendered).toMatch(/connect-src 'self' https:\/\/\*\.execute-api\.",\{"Ref":"AWS::Region"\},"\.",\{"Ref":"AWS::URLSuffix"\},/);
    expect(rendered).toMatch(/ wss:\/\/\*\.execute-api\.",\{"Ref":"AWS::Region"\}/);
    const dist = (Object.values(s.frontend.findResources('AWS::CloudFront::Distribution'))[0] as any).Properties
      .DistributionConfig;
    for (const behavior of [dist.DefaultCacheBehavior, ...dist.CacheBehaviors]) {
      expect(behavior.ResponseHeadersPolicyId).toEqual({ Ref: policyId });
    }
    // Error responses (the SPA fallback to index.html) go through the default behavior's headers.
    expect(dist.CustomErrorResponses.map((e: any) => e.ResponsePagePath)).toEqual(['/index.html', '/index.html']);
  });

  test('without a build at synth time, no hash is allowed (nothing inline can run)', () => {
    const s = synth();
    const policy = Object.values<any>(s.frontend.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0];
    const rendered = JSON.stringify(policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy);
    expect(rendered).not.toMatch(/sha256-/);
    expect(rendered).toContain("script-src 'self';");
  });
});
