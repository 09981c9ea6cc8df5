import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The Content-Security-Policy CloudFront sends with the app. Nothing runs or loads that is not
 * the app's own files, except what the SvelteKit build inlines: in index.html its boot script and
 * the `style="display: contents"` of the element it mounts into, and in its JavaScript the style
 * attributes of the templates it renders (the route announcer's), each allowed by the SHA-256 of its
 * exact text (read from the build, so a new build gets new hashes). `connect-src` names where the app
 * talks to: its own origin (/config.json) and the APIs.
 */
export interface CspInput {
  /** Origins the app fetches from and opens WebSockets to, besides its own. */
  readonly connectSources: ReadonlyArray<string>;
  /** From {@link inlineHashes} of the build's index.html. */
  readonly inline: InlineHashes;
}

export interface InlineHashes {
  /** `'sha256-…'` of every inline `<script>` body. */
  readonly scripts: string[];
  /** `'sha256-…'` of every `style="…"` attribute value (allowed with 'unsafe-hashes'). */
  readonly styleAttributes: string[];
  /** `'sha256-…'` of every inline `<style>` body. */
  readonly styles: string[];
}

export const NO_INLINE: InlineHashes = { scripts: [], styleAttributes: [], styles: [] };

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

const unique = (xs: string[]) => [...new Set(xs)];

/**
 * Hashes of what index.html inlines. Browsers hash the exact characters between the tags (and of
 * the attribute value, entities decoded), which is what these regular expressions capture; the
 * build's HTML is generated, so it has none of the edge cases (comments, CDATA) a general parser
 * would need.
 */
export function inlineHashes(html: string): InlineHashes {
  const scripts = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => sha256(m[1]));
  const styles = [...html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => sha256(m[1]));
  const decode = (v: string) =>
    v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const styleAttributes = [...html.matchAll(/\sstyle\s*=\s*("([^"]*)"|'([^']*)')/gi)].map((m) =>
    sha256(decode(m[2] ?? m[3] ?? '')),
  );
  return { scripts: unique(scripts), styles: unique(styles), styleAttributes: unique(styleAttributes) };
}

/**
 * `style="…"` attributes in the templates of the build's JavaScript (Svelte compiles static markup to
 * HTML strings, parsed by the browser like any inline markup, so their style attributes need hashes).
 */
export function templateStyleHashes(javascript: string): string[] {
  return unique([...javascript.matchAll(/\bstyle=\\?"([^"\\]*)\\?"/g)].map((m) => sha256(m[1])));
}

function filesUnder(dir: string, suffix: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(p, suffix);
    return e.name.endsWith(suffix) ? [p] : [];
  });
}

/** What the build at `buildDir` inlines (index.html and its scripts' templates), or none without a build. */
export function inlineHashesOfBuild(buildDir: string): InlineHashes {
  const index = path.join(buildDir, 'index.html');
  if (!fs.existsSync(index)) return NO_INLINE;
  const html = inlineHashes(fs.readFileSync(index, 'utf-8'));
  const fromScripts = filesUnder(buildDir, '.js').flatMap((f) => templateStyleHashes(fs.readFileSync(f, 'utf-8')));
  return { ...html, styleAttributes: unique([...html.styleAttributes, ...fromScripts]).sort() };
}

export function contentSecurityPolicy(input: CspInput): string {
  const { inline } = input;
  const styleSrc = ["'self'", ...inline.styles];
  if (inline.styleAttributes.length > 0) styleSrc.push("'unsafe-hashes'", ...inline.styleAttributes);
  const directives: Array<[string, string[]]> = [
    ['default-src', ["'none'"]],
    ['script-src', ["'self'", ...inline.scripts]],
    ['style-src', styleSrc],
    ['img-src', ["'self'", 'data:']],
    ['font-src', ["'self'"]],
    ['connect-src', ["'self'", ...input.connectSources]],
    ['manifest-src', ["'self'"]],
    ['base-uri', ["'none'"]],
    ['form-action', ["'self'"]],
    ['frame-ancestors', ["'none'"]],
    ['object-src', ["'none'"]],
  ];
  return directives.map(([name, values]) => `${name} ${values.join(' ')}`).join('; ');
}
