/** What `prepack` changes in a package's manifest before it is packed (see pack-manifest.ts). */

/** The repository-only export condition that `prepack` removes. */
export const SOURCE_CONDITION = '@ballast/source';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A copy of an `exports` value without the repository-only condition, at any depth. */
export function stripCondition(value: Json, condition: string = SOURCE_CONDITION): Json {
  if (Array.isArray(value)) return value.map((v) => stripCondition(v, condition));
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: Json } = {};
  for (const [key, v] of Object.entries(value)) {
    if (key !== condition) out[key] = stripCondition(v, condition);
  }
  return out;
}

/** The manifest as published, from the manifest as committed (text in, text out, two-space JSON). */
export function publishedManifest(committed: string): string {
  const manifest = JSON.parse(committed) as { [key: string]: Json };
  if (manifest.exports !== undefined) manifest.exports = stripCondition(manifest.exports);
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * The source file (relative to `src/`) that `tsc` compiles to `output` (relative to `dist/`): `a/b.js`, `a/b.d.ts`
 * and their `.map` files come from `a/b.ts`. Undefined for files tsc does not write (e.g. `.tsbuildinfo`).
 */
export function sourceOf(output: string): string | undefined {
  const match = /^(.*?)(\.d\.ts|\.js)(\.map)?$/.exec(output);
  return match ? `${match[1]}.ts` : undefined;
}
