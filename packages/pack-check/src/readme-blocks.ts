/**
 * The README code a user copies: the ```js / ```ts blocks that import a csq package, from the
 * root README's "Using csq from code" section and from every package README.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One code block that is a program (it imports from a csq package). */
export interface ReadmeProgram {
  /** The README, relative to the repository root. */
  source: string;
  /** Position of the block among the README's code blocks (0-based). */
  index: number;
  lang: 'js' | 'ts';
  code: string;
}

/** The fenced ```js / ```ts blocks of `markdown` that import from '@csq/...'. */
export function programBlocks(markdown: string, source: string): ReadmeProgram[] {
  const out: ReadmeProgram[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  let index = 0;
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown), index++) {
    const lang = m[1] === 'ts' || m[1] === 'typescript' ? 'ts' : m[1] === 'js' ? 'js' : undefined;
    if (lang && /^import .* from '@csq\//m.test(m[2]!))
      out.push({ source, index, lang, code: m[2]! });
  }
  return out;
}

/** The section of `markdown` under the heading `title` (to the next heading of that level). */
export function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`no "## ${title}" section`);
  const end = markdown.indexOf('\n## ', start + 4);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** Every README program of the repository at `repo`. */
export function readmePrograms(repo: string): ReadmeProgram[] {
  const root = readFileSync(join(repo, 'README.md'), 'utf8');
  const out = programBlocks(section(root, 'Using csq from code'), 'README.md');
  for (const dir of readdirSync(join(repo, 'packages')).sort()) {
    const file = join(repo, 'packages', dir, 'README.md');
    if (!existsSync(file)) continue;
    out.push(...programBlocks(readFileSync(file, 'utf8'), `packages/${dir}/README.md`));
  }
  return out;
}
