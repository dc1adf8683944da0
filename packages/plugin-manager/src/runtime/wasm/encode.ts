import { SectionId, type DecodedModule, type FunctionBody, type GlobalType, type ImportDesc, type Limits, type TableType } from './model.js';
import { ByteWriter } from './writer.js';

const HEADER = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
const KIND_BYTE = { function: 0, table: 1, memory: 2, global: 3 } as const;

/**
 * Encodes a decoded module: known sections from their fields with canonical (shortest)
 * LEB128 integers, custom sections byte for byte, every section where the section list
 * puts it. Instruction sequences and segments are copied as they are. A module decoded
 * from canonical bytes encodes back to the same bytes.
 */
export function encodeModule(module: DecodedModule): Uint8Array {
  const out = new ByteWriter(estimateSize(module));
  out.bytes(HEADER);
  const payload = new ByteWriter(1024);
  for (const entry of module.sections) {
    if (entry.id === SectionId.custom) {
      out.bytes(entry.custom.raw);
      continue;
    }
    payload.length = 0;
    writeSection(payload, entry.id, module);
    out.section(entry.id, payload.view());
  }
  return out.finish();
}

function estimateSize(module: DecodedModule): number {
  let size = 1024;
  for (const body of module.code) size += body.code.length + 8;
  for (const segment of module.data) size += segment.length;
  for (const entry of module.sections) if (entry.id === SectionId.custom) size += entry.custom.raw.length;
  return size;
}

function writeSection(w: ByteWriter, id: number, module: DecodedModule): void {
  switch (id) {
    case SectionId.type:
      w.uleb(module.types.length);
      for (const type of module.types) {
        w.u8(0x60).uleb(type.params.length);
        for (const param of type.params) w.u8(param);
        w.uleb(type.results.length);
        for (const result of type.results) w.u8(result);
      }
      return;
    case SectionId.import:
      w.uleb(module.imports.length);
      for (const entry of module.imports) {
        w.name(entry.module).name(entry.name).u8(KIND_BYTE[entry.desc.kind]);
        writeImportDesc(w, entry.desc);
      }
      return;
    case SectionId.function:
      w.uleb(module.functions.length);
      for (const typeIndex of module.functions) w.uleb(typeIndex);
      return;
    case SectionId.table:
      w.uleb(module.tables.length);
      for (const table of module.tables) writeTableType(w, table);
      return;
    case SectionId.memory:
      w.uleb(module.memories.length);
      for (const limits of module.memories) writeLimits(w, limits);
      return;
    case SectionId.global:
      w.uleb(module.globals.length);
      for (const global of module.globals) writeGlobalType(w, global.type).bytes(global.init);
      return;
    case SectionId.export:
      w.uleb(module.exports.length);
      for (const entry of module.exports) w.name(entry.name).u8(KIND_BYTE[entry.kind]).uleb(entry.index);
      return;
    case SectionId.start:
      w.uleb(module.start ?? 0);
      return;
    case SectionId.element:
      writeRaw(w, module.elements);
      return;
    case SectionId.dataCount:
      w.uleb(module.dataCount ?? module.data.length);
      return;
    case SectionId.code:
      w.uleb(module.code.length);
      for (const body of module.code) writeBody(w, body);
      return;
    case SectionId.data:
      writeRaw(w, module.data);
      return;
    default:
      throw new RangeError(`encodeModule: no encoder for section ${id}`);
  }
}

function writeRaw(w: ByteWriter, items: readonly Uint8Array[]): void {
  w.uleb(items.length);
  for (const item of items) w.bytes(item);
}

/** Writes limits with the flag byte their fields imply. */
export function writeLimits(w: ByteWriter, limits: Limits): ByteWriter {
  const flags = (limits.max === undefined ? 0 : 0x01) | (limits.shared ? 0x02 : 0) | (limits.index64 ? 0x04 : 0);
  w.u8(flags).uleb(limits.min);
  if (limits.max !== undefined) w.uleb(limits.max);
  return w;
}

function writeTableType(w: ByteWriter, table: TableType): ByteWriter {
  return writeLimits(w.u8(table.refType), table.limits);
}

function writeGlobalType(w: ByteWriter, type: GlobalType): ByteWriter {
  return w.u8(type.valType).u8(type.mutable ? 1 : 0);
}

function writeImportDesc(w: ByteWriter, desc: ImportDesc): void {
  switch (desc.kind) {
    case 'function':
      w.uleb(desc.typeIndex);
      return;
    case 'table':
      writeTableType(w, desc.type);
      return;
    case 'memory':
      writeLimits(w, desc.limits);
      return;
    case 'global':
      writeGlobalType(w, desc.type);
      return;
  }
}

/** Bytes the local declarations of `body` take when encoded. */
export function writeLocals(w: ByteWriter, body: Pick<FunctionBody, 'locals'>): ByteWriter {
  w.uleb(body.locals.length);
  for (const group of body.locals) w.uleb(group.count).u8(group.type);
  return w;
}

function writeBody(w: ByteWriter, body: FunctionBody): void {
  const locals = writeLocals(new ByteWriter(16 + body.locals.length * 6), body).view();
  w.uleb(locals.length + body.code.length).bytes(locals).bytes(body.code);
}
