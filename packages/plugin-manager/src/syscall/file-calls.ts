/**
 * forge.file_read and forge.file_write: whole-file access inside the plugin's volumes.
 *
 * | call | request | response |
 * | --- | --- | --- |
 * | file_read | the guest path, UTF-8 | the file's bytes |
 * | file_write | field path, u32 mode, data (rest) | empty |
 *
 * Write modes: 0 replace (write a temporary file beside the target, fsync, rename over
 * it: readers see the old or the new content, never a mix), 1 append (create when
 * missing), 2 create (refused with FO_SYSCALL_FILE_EXISTS when the file exists).
 *
 * The gate sees the guest path exactly as sent, so a path with `..` or NUL reaches
 * policy (which puts it in no volume and denies it, audited) before the call's own
 * check refuses it with FO_SYSCALL_FILE_BAD_PATH when a permissive gate let it pass.
 * Symbolic links are followed for reads only while they stay inside the volume, and
 * policy is asked again about the file a link really leads to (and about the place a
 * resolution fails at), so a link never carries a read past a Cedar forbid; a write
 * never follows a link in its last component.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fdatasyncSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { ForgeError } from '@forgeone/common';
import type { HostCallContext, HostFunctionDefinition } from '../abi/index.js';
import { RequestReader, decodeUtf8 } from './codec.js';
import type { FileLimits } from './limits.js';
import { MAX_GUEST_PATH_BYTES, fileError, type Volumes } from './volumes.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

/** file_write modes, by their u32 in the request. */
export const FILE_WRITE_MODES = ['replace', 'append', 'create'] as const;

/** A file_write mode. */
export type FileWriteMode = (typeof FILE_WRITE_MODES)[number];

/** Opens the volumes on first use. */
export type VolumesAccess = () => Volumes;

function pathText(call: string, bytes: Uint8Array): string {
  const path = decodeUtf8(bytes);
  if (path === undefined || bytes.length > MAX_GUEST_PATH_BYTES) {
    throw new ForgeError('FO_SYSCALL_FILE_BAD_PATH', `${call}: expected a guest path of at most ${MAX_GUEST_PATH_BYTES} bytes of UTF-8, found ${bytes.length} bytes${path === undefined ? ' of ill-formed UTF-8' : ''}`, {
      details: { call },
    });
  }
  return path;
}

interface WriteRequest {
  readonly path: string;
  readonly mode: FileWriteMode;
  readonly data: Uint8Array;
}

function readWriteRequest(call: string, request: Uint8Array): WriteRequest {
  const reader = new RequestReader(call, request);
  const path = pathText(call, reader.field('path'));
  const modeNumber = reader.u32('mode');
  const mode = FILE_WRITE_MODES[modeNumber];
  if (mode === undefined) {
    throw new ForgeError('FO_ABI_BAD_REQUEST', `${call}: expected mode 0 (replace), 1 (append) or 2 (create), found ${modeNumber}`, { details: { call, field: 'mode' } });
  }
  return { path, mode, data: reader.rest() };
}

function tooLarge(call: string, path: string, limit: number, actual: number | bigint, what: string): ForgeError {
  return new ForgeError('FO_SYSCALL_FILE_TOO_LARGE', `${call}: ${path}: expected ${what} of at most ${limit} bytes, found ${actual}`, {
    details: { call, path, limit, actual: Number(actual) },
  });
}

function notRegular(call: string, path: string, what: string): ForgeError {
  return new ForgeError('FO_SYSCALL_FILE_NOT_REGULAR', `${call}: ${path} is ${what}, not a regular file`, { details: { call, path } });
}

/** Reads an open regular file of `size` bytes. */
function readAll(fd: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let done = 0;
  while (done < size) {
    const n = readSync(fd, out, done, size - done, null);
    if (n === 0) break; // shrank while we read: return what is there
    done += n;
  }
  return done === size ? out : out.subarray(0, done);
}

function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

/** fsyncs a directory so a rename or a new entry in it is durable. */
function syncDirectory(host: string): void {
  const fd = openSync(host, O_RDONLY | O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The file_read definition. */
export function fileReadHostFunction(volumes: VolumesAccess, limits: FileLimits): HostFunctionDefinition {
  return {
    name: 'file_read',
    maxRequestBytes: MAX_GUEST_PATH_BYTES,
    resource: (request) => pathText('forge.file_read', request),
    handler: (request: Uint8Array, context: HostCallContext): Uint8Array => readFile(volumes, limits, request, context),
  };
}

function readFile(volumes: VolumesAccess, limits: FileLimits, request: Uint8Array, context: HostCallContext): Uint8Array {
  const call = context.call;
  const path = pathText(call, request);
  const all = volumes();
  const located = all.locate(call, path);
  if (located.relative === '') throw notRegular(call, path, 'the root of a volume');
  const target = all.resolve(call, path, located, true, (reached) => context.decide(reached, undefined, path));
  if (target.stat === undefined) {
    throw new ForgeError('FO_SYSCALL_FILE_NOT_FOUND', `${call}: ${path} does not exist`, { details: { call, path } });
  }
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not hang the host; O_NOFOLLOW: the resolved
    // last component is not a link unless it was swapped since (then: refused).
    fd = openSync(target.host, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    throw fileError(call, path, error);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw notRegular(call, path, stat.isDirectory() ? 'a directory' : 'a device, FIFO or socket');
    if (stat.size > limits.maxReadBytes) throw tooLarge(call, path, limits.maxReadBytes, stat.size, 'a file');
    return readAll(fd, stat.size);
  } catch (error) {
    throw fileError(call, path, error);
  } finally {
    closeSync(fd);
  }
}

/** The file_write definition. */
export function fileWriteHostFunction(volumes: VolumesAccess, limits: FileLimits): HostFunctionDefinition {
  return {
    name: 'file_write',
    maxRequestBytes: 4 + MAX_GUEST_PATH_BYTES + 4 + limits.maxWriteBytes + 4096,
    resource: (request) => readWriteRequest('forge.file_write', request).path,
    handler: (request: Uint8Array, context: HostCallContext): Uint8Array => writeFile(volumes, limits, request, context),
  };
}

function writeFile(volumes: VolumesAccess, limits: FileLimits, request: Uint8Array, context: HostCallContext): Uint8Array {
  const call = context.call;
  const { path, mode, data } = readWriteRequest(call, request);
  if (data.length > limits.maxWriteBytes) throw tooLarge(call, path, limits.maxWriteBytes, data.length, 'data');
  const all = volumes();
  const located = all.locate(call, path);
  if (located.volume.mode !== 'rw') {
    throw new ForgeError('FO_SYSCALL_FILE_READ_ONLY', `${call}: ${path} is in volume ${located.volume.guest}, which is mapped read-only`, {
      details: { call, path, volume: located.volume.guest },
    });
  }
  if (located.relative === '') throw notRegular(call, path, 'the root of a volume');
  const target = all.resolve(call, path, located, false, (reached) => context.decide(reached, undefined, path));
  if (target.stat?.isSymbolicLink() === true) throw notRegular(call, path, 'a symbolic link (file_write does not follow links)');
  if (target.stat !== undefined && !target.stat.isFile()) throw notRegular(call, path, target.stat.isDirectory() ? 'a directory' : 'a device, FIFO or socket');
  const name = target.name as string;
  const directory = target.host.slice(0, target.host.length - name.length - 1);
  try {
    if (mode === 'replace') replaceFile(directory, target.host, data);
    else writeInPlace(target.host, data, mode === 'append' ? O_APPEND : O_EXCL);
    syncDirectory(directory);
  } catch (error) {
    throw fileError(call, path, error);
  }
  return EMPTY;
}

/** Writes a temporary file in `directory`, syncs it and renames it over `host`. */
function replaceFile(directory: string, host: string, data: Uint8Array): void {
  const temporary = `${directory}/.forge-write-${randomBytes(8).toString('hex')}.tmp`;
  const fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
  let open = true;
  try {
    writeAll(fd, data);
    fdatasyncSync(fd);
    open = false;
    closeSync(fd);
    renameSync(temporary, host);
  } catch (error) {
    // Never close twice: the number may already name another file opened since.
    if (open) closeSync(fd);
    try {
      unlinkSync(temporary);
    } catch {
      // never created or already renamed
    }
    throw error;
  }
}

/** Appends to (or creates exclusively) `host` and syncs it. */
function writeInPlace(host: string, data: Uint8Array, flag: number): void {
  const fd = openSync(host, O_WRONLY | O_CREAT | O_NOFOLLOW | flag, 0o666);
  try {
    writeAll(fd, data);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const EMPTY = new Uint8Array(0);
