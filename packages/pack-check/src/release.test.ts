/**
 * Releases that work: the changesets parse (`changeset status`), and in a temporary copy of the
 * repository `changeset version` bumps every published package together with a CHANGELOG.md
 * each, after which `pnpm -r publish --dry-run` publishes every one of them with the files its
 * manifest names and its @csq dependencies pinned to the new version. The published packages are
 * found by reading the workspace (every non-private package.json under packages/ and apps/), so
 * a new package is checked without editing this file.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const work = mkdtempSync(join(tmpdir(), 'csq-release-'));
const copy = join(work, 'repo');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  module?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface Workspace {
  dir: string;
  manifest: Manifest;
}

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}`,
    );
  }
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Every workspace package (pnpm-workspace.yaml: packages/*, apps/*) under `root`. */
function workspaces(root: string): Workspace[] {
  const out: Workspace[] = [];
  for (const group of ['packages', 'apps']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const dir = join(base, name);
      if (existsSync(join(dir, 'package.json'))) out.push({ dir, manifest: readManifest(dir) });
    }
  }
  return out;
}

/** Every file path a manifest points at (exports targets except the source condition, etc.). */
function manifestFiles(m: Manifest): string[] {
  const files = new Set<string>();
  const add = (p: unknown) => {
    if (typeof p === 'string') files.add(p.replace(/^\.\//, ''));
  };
  const walk = (node: unknown) => {
    if (typeof node === 'string') add(node);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key !== '@csq/source') walk(value); // the monorepo's own condition: src/, unpublished
      }
    }
  };
  walk(m.exports);
  for (const p of [m.main, m.module, m.types]) add(p);
  if (typeof m.bin === 'string') add(m.bin);
  else for (const p of Object.values(m.bin ?? {})) add(p);
  return [...files].filter((f) => f !== 'package.json');
}

const published = workspaces(repo).filter((w) => !w.manifest.private);
const privateOnes = workspaces(repo).filter((w) => w.manifest.private);
let status: {
  changesets: { id: string; summary: string }[];
  releases: { name: string; type: string; oldVersion: string; newVersion: string }[];
};
let newVersion = '';

beforeAll(() => {
  // the working tree as git sees it (tracked and new files, nothing ignored), plus the builds
  // (turbo builds them before this package's tests)
  const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], repo)
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(repo, f)));
  for (const f of files) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(repo, f), join(copy, f));
  }
  for (const w of published) {
    const dist = join(w.dir, 'dist');
    if (!existsSync(dist)) throw new Error(`${w.manifest.name} has no dist/: run pnpm build first`);
    cpSync(dist, join(copy, w.dir.slice(repo.length + 1), 'dist'), { recursive: true });
  }
  run('pnpm', ['install', '--prefer-offline', '--frozen-lockfile', '--ignore-scripts'], copy);
  // the release plan, read by changesets in the real repository (it compares with git)
  const out = join(work, 'status.json');
  run(join(repo, 'node_modules', '.bin', 'changeset'), ['status', '--output', out], repo);
  status = JSON.parse(readFileSync(out, 'utf8'));
  newVersion = status.releases.find((r) => r.name === published[0]!.manifest.name)!.newVersion;
  run(join(copy, 'node_modules', '.bin', 'changeset'), ['version'], copy);
}, 600_000);

// a copy with its own node_modules: removing it takes minutes on a loaded machine
afterAll(() => rmSync(work, { recursive: true, force: true }), 600_000);

describe('releases with changesets', () => {
  it('finds the published packages in the workspace', () => {
    expect(published.map((w) => w.manifest.name)).toContain('@csq/core');
    expect(privateOnes.map((w) => w.manifest.name)).toContain('@csq/pack-check');
  });

  it('changeset status reads every changeset and releases every published package together', () => {
    expect(status.changesets.length).toBeGreaterThan(0);
    for (const c of status.changesets) {
      expect(c.summary.trim(), `changeset ${c.id} has no summary`).not.toBe('');
      expect(c.summary, `changeset ${c.id}`).not.toMatch(/^#/); // a front-matter line as heading
    }
    expect(newVersion).toMatch(/^\d+\.\d+\.\d+/);
    for (const w of published) {
      const r = status.releases.find((x) => x.name === w.manifest.name);
      expect(r, `${w.manifest.name} is not in the release plan`).toBeDefined();
      expect(r!.oldVersion).toBe(w.manifest.version);
      expect(r!.newVersion, `${w.manifest.name} (the fixed group)`).toBe(newVersion);
    }
    // private packages (apps, checks, test helpers) are never versioned
    for (const w of privateOnes) {
      const r = status.releases.find((x) => x.name === w.manifest.name);
      if (r) expect(r.newVersion, w.manifest.name).toBe(w.manifest.version);
    }
  });

  it('changeset version bumps them together and writes a CHANGELOG.md each', () => {
    const firstLine = status.changesets[0]!.summary.split('\n')[0]!;
    for (const w of published) {
      const dir = join(copy, w.dir.slice(repo.length + 1));
      expect(readManifest(dir).version, w.manifest.name).toBe(newVersion);
      const changelog = readFileSync(join(dir, 'CHANGELOG.md'), 'utf8');
      expect(changelog).toContain(`# ${w.manifest.name}`);
      expect(changelog).toContain(`## ${newVersion}`);
      expect(changelog).toContain(firstLine);
    }
    for (const w of privateOnes) {
      expect(readManifest(join(copy, w.dir.slice(repo.length + 1))).version).toBe(
        w.manifest.version,
      );
    }
    // the changesets were consumed
    const left = readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md'));
    expect(left).toEqual(['README.md']);
  });

  it('pnpm -r publish --dry-run publishes each with its files and pinned @csq versions', () => {
    run('pnpm', ['-r', 'publish', '--dry-run', '--no-git-checks', '--report-summary'], copy);
    const summary = JSON.parse(readFileSync(join(copy, 'pnpm-publish-summary.json'), 'utf8')) as {
      publishedPackages: { name: string; version: string; files: { path: string }[] }[];
    };
    const names = summary.publishedPackages.map((p) => p.name).sort();
    expect(names).toEqual(published.map((w) => w.manifest.name).sort());
    for (const w of published) {
      const p = summary.publishedPackages.find((x) => x.name === w.manifest.name)!;
      expect(p.version).toBe(newVersion);
      const files = new Set(p.files.map((f) => f.path));
      for (const f of manifestFiles(w.manifest)) {
        expect(files.has(f), `${p.name}: ${f} is named in package.json but not published`).toBe(
          true,
        );
      }
    }
    // what npm would receive: workspace: ranges replaced by the new version
    const dest = join(work, 'tarballs');
    for (const w of published) {
      run('pnpm', ['pack', '--pack-destination', dest], join(copy, w.dir.slice(repo.length + 1)));
    }
    for (const file of readdirSync(dest)) {
      const m = JSON.parse(
        run('tar', ['-xzOf', join(dest, file), 'package/package.json'], work),
      ) as Manifest;
      expect(m.version).toBe(newVersion);
      for (const deps of [m.dependencies, m.peerDependencies]) {
        for (const [name, range] of Object.entries(deps ?? {})) {
          if (!name.startsWith('@csq/')) continue;
          expect(range.replace(/^[\^~]/, ''), `${m.name} -> ${name}: ${range}`).toBe(newVersion);
        }
      }
    }
  });
});
