/**
 * The compile gate: type-checks the student's peer.ts in its sandbox with the kit's tsconfig,
 * in a child process (under child.ts limits, so a pathological file costs a bounded time).
 * Above: grade-submission.ts, which scores a file that does not compile 0 and shows the
 * messages, each as `file:line:col - error TSnnnn: message`, the student's file named as in
 * the submission.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runChild } from './child';
import { confine, type Isolation } from './isolation';
import {
  DEFAULT_OUTPUT_KEEP_BYTES,
  heapLimitMib,
  OUTPUT_FLOOD_FACTOR,
  TYPECHECK_MEMORY_MIB,
  TYPECHECK_TIMEOUT_S,
} from './limits';
import { SANDBOX_PEER_PATH } from './submission';

export interface TypecheckResult {
  readonly ok: boolean;
  /** One entry per diagnostic, continuation lines included. */
  readonly messages: string[];
}

/** tsc's `--pretty false` format: `path(line,col): error TS1234: text`. */
const DIAGNOSTIC = /^(.+?)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$/;

/**
 * Turns tsc's output into `file:line:col - error TSnnnn: message` entries. `display` maps a
 * sandbox-relative path to the name the student knows it by.
 */
export function parseDiagnostics(output: string, display: (path: string) => string): string[] {
  const messages: string[] = [];
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    const match = DIAGNOSTIC.exec(line);
    if (match !== null) {
      const [, file = '', row, col, severity, code, text] = match;
      messages.push(`${display(file)}:${row}:${col} - ${severity} ${code}: ${text}`);
    } else if (/^\s/.test(line) && messages.length > 0) {
      messages[messages.length - 1] += `\n${line}`;
    } else {
      messages.push(line);
    }
  }
  return messages;
}

/**
 * Type-checks SANDBOX_PEER_PATH (and what it imports) in `sandbox`, which holds the kit's
 * tsconfig.json and a node_modules link, inside the isolation layers like any run of the
 * student's file. `studentPath` is how the student names the file.
 */
export async function typecheck(
  sandbox: string,
  kitRoot: string,
  studentPath: string,
  isolation: Isolation,
): Promise<TypecheckResult> {
  const config = 'tsconfig.grade-check.json';
  writeFileSync(
    join(sandbox, config),
    JSON.stringify({
      extends: './tsconfig.json',
      compilerOptions: { noEmit: true, incremental: false },
      include: [],
      files: [SANDBOX_PEER_PATH],
    }),
  );
  const kitModules = realpathSync(join(kitRoot, 'node_modules'));
  const memoryBytes = TYPECHECK_MEMORY_MIB * 1024 * 1024;
  const confinement = confine(isolation, {
    command: process.execPath,
    args: [join(kitModules, 'typescript', 'bin', 'tsc'), '-p', config, '--pretty', 'false'],
    cwd: sandbox,
    readOnly: [sandbox, kitModules],
    writable: [],
    memoryBytes,
    base: dirname(sandbox),
  });
  const result = await runChild({
    command: confinement.command,
    args: confinement.args,
    confinement,
    cwd: sandbox,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: `--max-old-space-size=${heapLimitMib(TYPECHECK_MEMORY_MIB)}`,
    },
    limits: {
      timeoutMs: TYPECHECK_TIMEOUT_S * 1000,
      memoryBytes,
      outputKeepBytes: DEFAULT_OUTPUT_KEEP_BYTES,
      outputFloodBytes: OUTPUT_FLOOD_FACTOR * DEFAULT_OUTPUT_KEEP_BYTES,
    },
  });
  if (result.end !== 'exited' || result.spawnError !== null) {
    return {
      ok: false,
      messages: [
        `the type check did not finish (${result.spawnError ?? result.end}); ` +
          'a file that takes the compiler this long is not gradable',
      ],
    };
  }
  const display = (path: string): string =>
    path.replace(/\\/g, '/') === SANDBOX_PEER_PATH ? studentPath : path;
  const messages = parseDiagnostics(result.output, display);
  return { ok: result.exitCode === 0 && messages.length === 0, messages };
}
