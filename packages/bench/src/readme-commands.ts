/**
 * The app commands a markdown file documents (`pnpm --filter @csq/app-NAME start -- FLAGS`),
 * so tests can check that every documented command parses and what it would run.
 */

/** The flag lists of every documented command of package `pkg` in `markdown`. */
export function documentedCommands(markdown: string, pkg: string): string[][] {
  const escaped = pkg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const re = new RegExp(`pnpm --filter ${escaped} start -- ([^\`\\n]+)`, 'g');
  return [...markdown.matchAll(re)].map((m) => m[1]!.trim().split(/\s+/));
}
