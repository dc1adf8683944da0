/**
 * The archive layer of the .forgepkg format: a deterministic writer and a streaming,
 * limit-enforcing reader of gzip-compressed ustar archives holding regular files only,
 * with sinks that keep the entries in memory or write them into a private directory.
 * Layout and manifest rules belong to the package layer above.
 */
export { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './limits.js';
export { MAX_ENTRY_NAME_BYTES, collisionKey, entryNameProblem, type NameProblem } from './entry-name.js';
export type { ArchiveEntry, EntrySink } from './sink.js';
export { MemorySink } from './memory-sink.js';
export { DirectorySink } from './directory-sink.js';
export { readArchive } from './read-archive.js';
export { writeArchive, type ArchiveFile } from './write-archive.js';
