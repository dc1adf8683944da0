import { scanBody, type Regions, type ScanContext } from './instructions.js';
import { readValType } from './valtypes.js';
import { checkLimit, resolveModuleLimits, type ModuleLimits } from './limits.js';
import { SECTION_ORDER, SectionId, importCounts, type DecodedModule, type FunctionBody, type KnownSectionId, type LocalGroup, type ValType } from './model.js';
import { Feature } from './opcodes.js';
import { ByteReader, hex, unsupported } from './reader.js';
import {
  readDataSegment,
  readElementSegment,
  readExport,
  readFuncType,
  readGlobal,
  readImport,
  readMemoryType,
  readTableType,
  readVec,
} from './sections.js';

/** Options for {@link decodeModule}. */
export interface DecodeOptions {
  /** Size limits; unnamed ones take {@link DEFAULT_MODULE_LIMITS}. */
  readonly limits?: Partial<ModuleLimits>;
  /**
   * Called once per function body, in order, right after it has been checked, with its
   * fuel regions and the module decoded so far (every section before the code). The
   * regions object is reused for the next body.
   */
  readonly onBody?: (index: number, body: FunctionBody, regions: Regions, module: DecodedModule) => void;
}

/** A decoded module and the post-MVP features its instructions and types use. */
export interface DecodeResult {
  readonly module: DecodedModule;
  /** {@link Feature} bits. */
  readonly features: number;
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * Decodes a binary module (version 1) without compiling it: every section's structure,
 * and every function body instruction by instruction (opcodes and immediates, not
 * types; the engine validates types when it compiles).
 *
 * @throws ForgeError FO_RUNTIME_MALFORMED_MODULE with the byte offset of the first
 *   problem; FO_RUNTIME_UNSUPPORTED_FEATURE for exception handling, GC, function
 *   references, custom page sizes or a component; FO_RUNTIME_MODULE_TOO_LARGE,
 *   FO_RUNTIME_TOO_MANY_FUNCTIONS, FO_RUNTIME_FUNCTION_TOO_LARGE or
 *   FO_RUNTIME_TOO_MANY_LOCALS past the limits; FO_LIMIT_INVALID for a bad limit.
 */
export function decodeModule(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  const limits = resolveModuleLimits(options.limits);
  checkLimit('FO_RUNTIME_MODULE_TOO_LARGE', 'module size in bytes', bytes.length, limits.maxModuleBytes);
  const reader = new ByteReader(bytes);
  readHeader(reader);
  const module: DecodedModule = {
    types: [],
    imports: [],
    functions: [],
    tables: [],
    memories: [],
    globals: [],
    exports: [],
    start: undefined,
    elements: [],
    dataCount: undefined,
    code: [],
    data: [],
    sections: [],
  };
  let features = 0;
  let lastOrder = -1;
  let sawCode = false;
  while (reader.pos < bytes.length) {
    reader.end = bytes.length;
    const sectionStart = reader.pos;
    const id = reader.u8('a section id');
    const size = reader.u32('a section size');
    const payloadStart = reader.pos;
    if (size > bytes.length - payloadStart) reader.fail(`a section of ${size} bytes`, `${bytes.length - payloadStart} bytes left in the module`, sectionStart);
    const sectionEnd = payloadStart + size;
    reader.end = sectionEnd;
    if (id === SectionId.custom) {
      const name = reader.name('a custom section name');
      module.sections.push({ id: 0, custom: { name, raw: bytes.subarray(sectionStart, sectionEnd), contentSize: sectionEnd - reader.pos } });
      reader.pos = sectionEnd;
      continue;
    }
    if (id === SectionId.tag) unsupported(sectionStart, 'exception handling', 'the tag section');
    const order = SECTION_ORDER.indexOf(id);
    if (order === -1) reader.fail('a section id (0 to 12)', hex(id), sectionStart);
    if (order <= lastOrder) reader.fail(`sections in order, each once`, `section ${id} after section ${SECTION_ORDER[lastOrder]}`, sectionStart);
    lastOrder = order;
    module.sections.push({ id: id as KnownSectionId });
    features |= readSection(reader, id, module, limits, options.onBody);
    if (id === SectionId.code) sawCode = true;
    if (reader.pos !== sectionEnd) reader.fail(`section ${id} to end at byte ${sectionEnd}`, `${sectionEnd - reader.pos} unread bytes`, reader.pos);
  }
  if (!sawCode && module.functions.length > 0) {
    reader.fail(`a code section with ${module.functions.length} bodies`, 'no code section', bytes.length);
  }
  if (module.dataCount !== undefined && module.dataCount !== module.data.length) {
    reader.fail(`${module.dataCount} data segments (the data count section)`, `${module.data.length}`, bytes.length);
  }
  for (const type of module.types) {
    if (type.results.length > 1) features |= Feature.multiValue;
    for (const valType of [...type.params, ...type.results]) features |= valTypeFeature(valType);
  }
  for (const global of module.globals) features |= valTypeFeature(global.type.valType);
  const tables = [...module.tables, ...module.imports.flatMap((i) => (i.desc.kind === 'table' ? [i.desc.type] : []))];
  if (tables.length > 1 || tables.some((table) => table.refType === 0x6f)) features |= Feature.referenceTypes;
  for (const memory of [...module.memories, ...module.imports.flatMap((i) => (i.desc.kind === 'memory' ? [i.desc.limits] : []))]) {
    if (memory.index64) features |= Feature.memory64;
    if (memory.shared) features |= Feature.threads;
  }
  return { module, features };
}

/** The proposal a value type comes from: SIMD for v128, reference types for references. */
function valTypeFeature(type: ValType): number {
  if (type === 0x7b) return Feature.simd;
  return type === 0x70 || type === 0x6f ? Feature.referenceTypes : 0;
}

function readHeader(reader: ByteReader): void {
  for (const [index, byte] of MAGIC.entries()) {
    const found = reader.u8('the magic number \\0asm');
    if (found !== byte) reader.fail('the magic number \\0asm (a WebAssembly binary module)', hex(found), index);
  }
  const version = reader.take(4, 'the binary format version');
  if (version[0] === 1 && version[1] === 0 && version[2] === 0 && version[3] === 0) return;
  if (version[2] === 1 && version[3] === 0) unsupported(4, 'the component model', 'a component (layer 1)');
  reader.fail('binary format version 1', `bytes ${Array.from(version, hex).join(' ')}`, 4);
}

/** Reads one known section's payload into `module`; returns the features it uses. */
function readSection(
  reader: ByteReader,
  id: number,
  module: DecodedModule,
  limits: ModuleLimits,
  onBody: DecodeOptions['onBody'],
): number {
  const counts = () => importCounts(module);
  switch (id) {
    case SectionId.type:
      module.types = readVec(reader, 'types', () => readFuncType(reader));
      return 0;
    case SectionId.import:
      module.imports = readVec(reader, 'imports', () => readImport(reader, module.types.length));
      checkLimit('FO_RUNTIME_TOO_MANY_FUNCTIONS', 'functions (imported)', counts().functions, limits.maxFunctions);
      return 0;
    case SectionId.function: {
      const imported = counts().functions;
      module.functions = readVec(reader, 'functions', () => {
        const at = reader.pos;
        const typeIndex = reader.u32('a type index');
        if (typeIndex >= module.types.length) reader.fail(`a type index below ${module.types.length}`, String(typeIndex), at);
        return typeIndex;
      });
      checkLimit('FO_RUNTIME_TOO_MANY_FUNCTIONS', 'functions (imported and defined)', imported + module.functions.length, limits.maxFunctions);
      return 0;
    }
    case SectionId.table:
      module.tables = readVec(reader, 'tables', () => readTableType(reader));
      return 0;
    case SectionId.memory:
      module.memories = readVec(reader, 'memories', () => readMemoryType(reader));
      return 0;
    case SectionId.global: {
      const imported = counts().globals;
      // Peek the count so initialisers may name any global the module has.
      const peek = new ByteReader(reader.bytes, reader.pos, reader.end);
      const total = imported + peek.u32('the number of globals');
      module.globals = readVec(reader, 'globals', () => readGlobal(reader, total));
      return 0;
    }
    case SectionId.export: {
      const globals = counts().globals + module.globals.length;
      module.exports = readVec(reader, 'exports', () => readExport(reader, globals));
      return 0;
    }
    case SectionId.start:
      module.start = reader.u32('the start function index');
      return 0;
    case SectionId.element: {
      const globals = counts().globals + module.globals.length;
      module.elements = readVec(reader, 'element segments', () => readElementSegment(reader, globals));
      return 0;
    }
    case SectionId.dataCount:
      module.dataCount = reader.u32('the data segment count');
      return Feature.bulkMemory;
    case SectionId.code:
      return readCode(reader, module, limits, onBody);
    case SectionId.data: {
      const globals = counts().globals + module.globals.length;
      module.data = readVec(reader, 'data segments', () => readDataSegment(reader, globals));
      return 0;
    }
    default:
      return reader.fail('a known section id', hex(id));
  }
}

function readCode(reader: ByteReader, module: DecodedModule, limits: ModuleLimits, onBody: DecodeOptions['onBody']): number {
  const at = reader.pos;
  const count = reader.u32('the number of function bodies');
  if (count !== module.functions.length) reader.fail(`${module.functions.length} function bodies (the function section's count)`, String(count), at);
  const counts = importCounts(module);
  const memories64 = [...module.imports.flatMap((i) => (i.desc.kind === 'memory' ? [i.desc.limits.index64] : [])), ...module.memories.map((m) => m.index64)];
  const tables64 = [...module.imports.flatMap((i) => (i.desc.kind === 'table' ? [i.desc.type.limits.index64] : [])), ...module.tables.map((t) => t.limits.index64)];
  const memory64 = memories64.includes(true);
  const globalCount = counts.globals + module.globals.length;
  const regions: Regions = { costs: [], events: [], waits: [] };
  const sectionEnd = reader.end;
  let features = 0;
  const bodies: FunctionBody[] = [];
  for (let index = 0; index < count; index += 1) {
    const sizeAt = reader.pos;
    const size = reader.u32('a function body size');
    const functionIndex = counts.functions + index;
    checkLimit('FO_RUNTIME_FUNCTION_TOO_LARGE', `size in bytes of function ${functionIndex}`, size, limits.maxFunctionBodyBytes, { function: functionIndex });
    const bodyEnd = reader.pos + size;
    if (bodyEnd > sectionEnd) reader.fail(`a function body of ${size} bytes`, `${sectionEnd - reader.pos} bytes left in the code section`, sizeAt);
    reader.end = bodyEnd;
    const params = module.types[module.functions[index] as number]?.params.length ?? 0;
    const locals: LocalGroup[] = [];
    let localCount = 0;
    const groups = reader.u32('the number of local declarations');
    for (let group = 0; group < groups; group += 1) {
      const groupAt = reader.pos;
      const localsInGroup = reader.u32('a local count');
      localCount += localsInGroup;
      checkLimit('FO_RUNTIME_TOO_MANY_LOCALS', `locals of function ${functionIndex} (parameters included)`, params + localCount, limits.maxLocalsPerFunction, { function: functionIndex, offset: groupAt });
      const type = readValType(reader, 'a local type');
      features |= valTypeFeature(type);
      locals.push({ count: localsInGroup, type });
    }
    const context: ScanContext = { localCount: params + localCount, globalCount, typeCount: module.types.length, memory64, memories64, tables64, hasDataCount: module.dataCount !== undefined };
    const codeStart = reader.pos;
    features |= scanBody(reader, context, regions);
    const body: FunctionBody = { locals, localCount, size, code: reader.bytes.subarray(codeStart, bodyEnd), offset: codeStart };
    bodies.push(body);
    onBody?.(index, body, regions, module);
    reader.end = sectionEnd;
  }
  module.code = bodies;
  return features;
}
