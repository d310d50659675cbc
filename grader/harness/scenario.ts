/**
 * `scenario(name, story)`: a graded test. Each gets a fresh World on the suite file's peer host
 * thread; its cleanup runs in afterEach, so a failure is reported with its own message before
 * anything is torn down. The host is replaced after any scenario that did not finish, so a
 * broken peer (a stuck promise chain, a leaked listener) costs only the scenario that broke it.
 * Below: world.ts and peer-host/host.ts. Above: every grader/suites/*.test.ts.
 */
import { SCENARIO_MS } from './bounds';
import { PeerHost } from './peer-host/host';
import { World } from './world';

/** One host per suite file (Jest gives each file its own module registry). */
let sharedHost: PeerHost | undefined;
/** The scenario running now, or torn down in the next afterEach. */
let active: { readonly world: World; finished: boolean } | undefined;
/** Set when the last scenario failed or broke its host: the next one starts a new thread. */
let replaceHost = false;
let hooksInstalled = false;
/**
 * Set when the Peer class could not be loaded: loading is deterministic, so the later scenarios
 * of the file fail with the same message at once instead of each starting a thread to see it.
 */
let loadFailure: Error | undefined;

async function freshWorld(): Promise<World> {
  if (sharedHost && (replaceHost || sharedHost.death)) {
    await sharedHost.close();
    sharedHost = undefined;
  }
  replaceHost = false;
  sharedHost ??= new PeerHost();
  const world = new World(sharedHost);
  try {
    await world.start();
  } catch (error) {
    if (world.loadFailed) loadFailure = error instanceof Error ? error : new Error(String(error));
    throw error;
  }
  return world;
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  afterEach(async () => {
    if (!active) return;
    const { world, finished } = active;
    active = undefined;
    await world.dispose();
    if (!finished || world.hostBroken) replaceHost = true;
  });
  afterAll(async () => {
    await sharedHost?.close();
    sharedHost = undefined;
  });
}

/** A graded test: `story` gets a fresh World; its peers, sockets and servers close after it. */
export function scenario(name: string, story: (world: World) => Promise<void>): void {
  installHooks();
  test(
    name,
    async () => {
      if (loadFailure !== undefined) throw loadFailure;
      const world = await freshWorld();
      const run = { world, finished: false };
      active = run;
      await story(world);
      run.finished = true;
    },
    SCENARIO_MS,
  );
}
