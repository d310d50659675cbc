// Stryker ignorer for npm run mutation (stryker.config.mjs): mutants of solution/peer.ts that
// no graded scenario may kill because the contract leaves the behaviour to the student. They
// are reported as "Ignored" with this reason, outside the score; docs/mutation.md lists them.
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';

/** True if `node` (a Babel AST node) or anything below it is the identifier `name`. */
function mentions(node, name) {
  if (!node || typeof node !== 'object') return false;
  if (node.type === 'Identifier' && node.name === name) return true;
  return Object.entries(node).some(
    ([key, value]) =>
      !['loc', 'start', 'end', 'leadingComments', 'trailingComments'].includes(key) &&
      (Array.isArray(value) ? value.some((v) => mentions(v, name)) : mentions(value, name)),
  );
}

const BACKPRESSURE =
  'Backpressure towards a client that does not read its answers: the handout calls it ' +
  '"going further, not required by the TODO", so no graded scenario may require it.';

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'lab9-contract', {
    shouldIgnore(path) {
      // `let paused = false` and `if (... socket.writableLength > MAX_QUEUED_REPLY_BYTES) {
      // pause until 'drain' }`: the whole of the reference's backpressure.
      const backpressure =
        (path.isIfStatement() && mentions(path.node.test, 'MAX_QUEUED_REPLY_BYTES')) ||
        (path.isVariableDeclarator() && mentions(path.node.id, 'paused'));
      return backpressure ? BACKPRESSURE : undefined;
    },
  }),
];
