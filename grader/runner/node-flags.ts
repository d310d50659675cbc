/**
 * Node's permission-model flags, chosen from what the running Node accepts
 * (`process.allowedNodeEnvironmentFlags`), never from its version number alone: the model's
 * switch is `--experimental-permission` on Node 20 and 22.0–22.12 and `--permission` from 22.13;
 * `--allow-addons` exists from 20.12 (before it, addons are not restricted and the flag is a
 * startup error); `--allow-net` exists from Node 26, where without it every socket fails with
 * ERR_ACCESS_DENIED. Above: run-jest.ts (the graded Jest process), isolation.ts (whether the
 * layer is on and how it is described), and any runner code that starts a Node process.
 */

/** What a process started with the permission model may do beyond reading nothing at all. */
export interface PermissionGrants {
  /** Paths it may read (`*` for everything). */
  readonly read: readonly string[];
  /** Paths it may write. */
  readonly write: readonly string[];
  /** @default false */
  readonly childProcess?: boolean;
  /** @default false */
  readonly worker?: boolean;
  /** Native addons (Jest's resolver is one). @default false */
  readonly addons?: boolean;
  /** Sockets, loopback included; only Node 26+ can deny them. @default false */
  readonly net?: boolean;
}

/** The permission model of one Node, as its accepted flags describe it. */
export interface PermissionModel {
  /** The switch that turns the model on. */
  readonly flag: '--permission' | '--experimental-permission';
  /** `--allow-addons` exists: addons are denied unless granted. Without it they are not restricted. */
  readonly restrictsAddons: boolean;
  /** `--allow-net` exists: sockets are denied unless granted. Without it they are not restricted. */
  readonly restrictsNet: boolean;
}

/** The model of the Node whose accepted flags are `accepted`; null when it has none. */
export function permissionModelOf(accepted: ReadonlySet<string>): PermissionModel | null {
  const flag = accepted.has('--permission')
    ? '--permission'
    : accepted.has('--experimental-permission')
      ? '--experimental-permission'
      : null;
  if (flag === null) return null;
  return {
    flag,
    restrictsAddons: accepted.has('--allow-addons'),
    restrictsNet: accepted.has('--allow-net'),
  };
}

/** The running Node's permission model; null when it has none. */
export function permissionModel(): PermissionModel | null {
  return permissionModelOf(process.allowedNodeEnvironmentFlags);
}

/**
 * The flags that start a Node whose model is `model` with exactly `grants` (as far as that
 * model can deny: see PermissionModel); null when `model` is null.
 */
export function permissionFlagsFor(
  model: PermissionModel | null,
  grants: PermissionGrants,
): string[] | null {
  if (model === null) return null;
  const flags: string[] = [model.flag];
  for (const path of grants.read) flags.push(`--allow-fs-read=${path}`);
  for (const path of grants.write) flags.push(`--allow-fs-write=${path}`);
  if (grants.worker === true) flags.push('--allow-worker');
  if (grants.childProcess === true) flags.push('--allow-child-process');
  if (grants.addons === true && model.restrictsAddons) flags.push('--allow-addons');
  if (grants.net === true && model.restrictsNet) flags.push('--allow-net');
  return flags;
}

/** The permission-model flags for the running Node, or null when it has no permission model. */
export function permissionFlags(grants: PermissionGrants): string[] | null {
  return permissionFlagsFor(permissionModel(), grants);
}

/**
 * Silences the model's start-up warnings (ExperimentalWarning on Node 20–22, SecurityWarning
 * when addons or child processes are granted), which would otherwise open every run's log;
 * empty on a Node without `--disable-warning` (before 20.11).
 */
export function quietPermissionFlags(): string[] {
  return process.allowedNodeEnvironmentFlags.has('--disable-warning')
    ? ['--disable-warning=ExperimentalWarning', '--disable-warning=SecurityWarning']
    : [];
}
