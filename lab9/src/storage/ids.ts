/**
 * Validation of swarm and file IDs before they become paths on disk. An ID that could escape the
 * FileManager's root (`..`, absolute paths, backslashes, NUL) is refused with ERR_INVALID_ID.
 * File IDs may contain `/` to name files in sub-folders; swarm IDs may not.
 */
import { StorageError } from '../errors';
import { MAX_ID_BYTES } from '../limits';

export function checkSwarmId(swarmId: string): void {
  checkCommon(swarmId, 'swarm');
  if (swarmId.includes('/')) refuse(swarmId, 'swarm', 'contains "/"');
  checkSegment(swarmId, swarmId, 'swarm');
}

export function checkFileId(fileId: string): void {
  checkCommon(fileId, 'file');
  if (fileId.startsWith('/')) refuse(fileId, 'file', 'is an absolute path');
  for (const segment of fileId.split('/')) checkSegment(segment, fileId, 'file');
}

function checkCommon(id: string, kind: string): void {
  if (typeof id !== 'string') throw new TypeError(`${kind} ID must be a string`);
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes === 0 || bytes > MAX_ID_BYTES) refuse(id, kind, `must be 1..${MAX_ID_BYTES} bytes`);
  if (id.includes('\\')) refuse(id, kind, 'contains a backslash');
  if (id.includes('\0')) refuse(id, kind, 'contains a NUL byte');
  if (/^[a-zA-Z]:/.test(id)) refuse(id, kind, 'starts with a drive letter');
}

function checkSegment(segment: string, id: string, kind: string): void {
  if (segment === '' || segment === '.' || segment === '..') {
    refuse(id, kind, `has a "${segment}" path segment`);
  }
}

function refuse(id: string, kind: string, why: string): never {
  throw new StorageError('ERR_INVALID_ID', `${kind} ID ${JSON.stringify(id)} ${why}`);
}
