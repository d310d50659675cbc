/**
 * Compiles what the peer process runs to plain JavaScript, in the harness, before it starts:
 * the kit's lab9/src, the peer module under test and the peer-process side of the harness
 * (worker.ts and the files it imports), each file on its own (TypeScript's transpileModule, no
 * type check; the type check is the runner's). The peer process then needs no TypeScript loader,
 * no node_modules and no read access beyond this one folder. Paths inside it mirror the kit, so
 * relative imports resolve as in the kit; inline source maps name the original .ts files.
 * Above: the runner (one compile per run) and launch.ts (on demand, outside the runner).
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The entry of the peer process inside a compiled folder. */
export const WORKER_ENTRY = 'grader/harness/peer-host/worker.js';

export interface CompileRequest {
  /** The kit (or sandbox) root: lab9/src and grader/harness are read from here. */
  readonly root: string;
  /** The module exporting Peer, inside `root`, with or without `.ts`. */
  readonly peerModule: string;
}

/** What the peer process is started with. */
export interface CompiledPeerHost {
  readonly dir: string;
  /** `dir`/WORKER_ENTRY. */
  readonly entry: string;
  /** The compiled peer module, as worker.js requires it. */
  readonly peerModule: string;
}

/** A relative import or require of a TypeScript module: `from './x'`, `import('./x')`, `require('./x')`. */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"](\.\.?\/[^'"]+)['"]/g;

function tsFile(path: string): string | null {
  for (const candidate of [path, `${path}.ts`, join(path, 'index.ts')]) {
    if (candidate.endsWith('.ts') && existsSync(candidate)) return candidate;
  }
  return null;
}

function allTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(
      (entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'),
    )
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every file the peer process runs: lab9/src, the worker and the peer module with their imports. */
export function peerHostSources(request: CompileRequest): string[] {
  const root = resolve(request.root);
  const peer = tsFile(resolve(root, request.peerModule));
  if (peer === null) throw new TypeError(`no TypeScript module at ${request.peerModule}`);
  if (relative(root, peer).startsWith('..') || isAbsolute(relative(root, peer))) {
    throw new TypeError(`the peer module ${peer} is not inside ${root}`);
  }
  const worker = join(root, WORKER_ENTRY.replace(/\.js$/, '.ts'));
  const files = new Set<string>(allTs(join(root, 'lab9', 'src')));
  const queue = [worker, peer];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file) && file !== worker && file !== peer) continue;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(RELATIVE_IMPORT)) {
      const found = tsFile(resolve(dirname(file), match[1] as string));
      if (found !== null && !files.has(found) && !relative(root, found).startsWith('..')) {
        queue.push(found);
      }
    }
  }
  return [...files].sort();
}

function jsPath(root: string, file: string): string {
  return relative(root, file).split(sep).join('/').replace(/\.ts$/, '.js');
}

/**
 * Outputs already made in this process, by kit-relative path and source: a batch compiles the
 * kit once and only each student's peer.ts after that.
 */
const transpiled = new Map<string, string>();

/** Compiles into `dir` (created; must not exist). */
export function compilePeerHost(request: CompileRequest, dir: string): CompiledPeerHost {
  // Loaded here only, so a cached compile never pays for TypeScript, and through Node's own
  // require: under Jest, its module registry would load it again, slowly, for every test file.
  const ts = createRequire(__filename)('typescript') as typeof import('typescript');
  const root = resolve(request.root);
  const sources = peerHostSources(request);
  mkdirSync(dir, { recursive: true });
  for (const file of sources) {
    const source = readFileSync(file, 'utf8');
    // Kit-relative, so the source map names the .ts beside the .js: a stack then reads
    // `<dir>/lab9/src/peer/peer.ts:12:5`, which the harness shortens to lab9/src/peer/peer.ts.
    const name = relative(root, file).split(sep).join('/');
    const key = createHash('sha256').update(name).update('\0').update(source).digest('hex');
    let output = transpiled.get(key);
    if (output === undefined) {
      output = ts.transpileModule(source, {
        fileName: name,
        compilerOptions: {
          module: ts.ModuleKind.CommonJS,
          target: ts.ScriptTarget.ES2022,
          esModuleInterop: true,
          isolatedModules: true,
          inlineSourceMap: true,
        },
      }).outputText;
      transpiled.set(key, output);
    }
    const target = join(dir, jsPath(root, file));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, output);
  }
  const peer = tsFile(resolve(root, request.peerModule)) as string;
  return {
    dir,
    entry: join(dir, WORKER_ENTRY),
    peerModule: join(dir, jsPath(root, peer)),
  };
}

/**
 * A compile kept under `cacheRoot`, named by the hash of its sources, made once and reused:
 * for running the suites outside the runner (the kit's own tests), where each test file would
 * otherwise compile again. The runner never uses it: it compiles once per run, where no run
 * can write.
 */
export function compileCached(request: CompileRequest, cacheRoot: string): CompiledPeerHost {
  const root = resolve(request.root);
  const hash = createHash('sha256');
  for (const file of peerHostSources(request)) {
    hash
      .update(`${relative(root, file)}\0`)
      .update(readFileSync(file))
      .update('\0');
  }
  hash.update(readFileSync(__filename));
  const dir = join(cacheRoot, `lab9-peer-host-${hash.digest('hex').slice(0, 24)}`);
  const peer = tsFile(resolve(root, request.peerModule)) as string;
  const compiled = {
    dir,
    entry: join(dir, WORKER_ENTRY),
    peerModule: join(dir, jsPath(root, peer)),
  };
  if (existsSync(compiled.entry)) return compiled;
  const building = mkdtempSync(join(cacheRoot, 'lab9-peer-host-building-'));
  compilePeerHost(request, join(building, 'out'));
  try {
    renameSync(join(building, 'out'), dir);
  } catch (error) {
    // Another test file won the race: its copy is the same.
    if (!existsSync(compiled.entry)) throw error;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return { ...compiled };
}
