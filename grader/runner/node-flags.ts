/**
 * The flags of Node's permission model for the running Node: `--experimental-permission` on
 * Node 20, `--permission` from 22.13 (and 23.5); `--allow-addons` from 20.12; sockets need
 * `--allow-net` where Node has it (26). Below: nothing but `process`. Above: run-jest.ts (the
 * Jest process) and the peer host (the student's process).
 */

export interface PermissionGrants {
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly childProcess?: boolean;
  readonly worker?: boolean;
  readonly addons?: boolean;
  readonly net?: boolean;
}

/** The permission-model flags for the running Node, or null when it has no permission model. */
export function permissionFlags(grants: PermissionGrants): string[] | null {
  const known = process.allowedNodeEnvironmentFlags;
  const flag = known.has('--permission')
    ? '--permission'
    : known.has('--experimental-permission')
      ? '--experimental-permission'
      : null;
  if (flag === null) return null;
  const flags = [flag];
  for (const path of grants.read) flags.push(`--allow-fs-read=${path}`);
  for (const path of grants.write) flags.push(`--allow-fs-write=${path}`);
  if (grants.childProcess === true) flags.push('--allow-child-process');
  if (grants.worker === true) flags.push('--allow-worker');
  if (grants.addons === true && known.has('--allow-addons')) flags.push('--allow-addons');
  if (grants.net === true && known.has('--allow-net')) flags.push('--allow-net');
  return flags;
}
