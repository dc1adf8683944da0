// bench/pdk's transform in AssemblyScript, the guest logic both AssemblyScript plugins share
// (transform-forge.ts with ForgeOne's PDK, transform-extism.ts with Extism's): parse with
// @forgeone/pdk's JSON reader, write with its JSON writer. Pure code: it imports no host call.
// {"items":[{"id","name","price","tags"}...]} -> {"count":N,"total":SUM(price),"sale":[ids tagged "sale"]}
import { ByteWriter } from '../../packages/pdk/assembly/bytes';
import { JsonWriter } from '../../packages/pdk/assembly/json';
import { JsonKind, parseJson } from '../../packages/pdk/assembly/json-read';

/** The output, or null when the input is not a document of that shape. */
export function transformJson(input: Uint8Array): Uint8Array | null {
  const parsed = parseJson(input);
  if (!parsed.ok) return null;
  const items = parsed.value.get('items');
  if (items === null || items.kind != JsonKind.Array) return null;
  let total: i64 = 0;
  const sale: i64[] = [];
  for (let i = 0; i < items.items.length; i++) {
    const item = items.items[i];
    total += <i64>item.getNumber('price');
    const tags = item.get('tags');
    if (tags === null || tags.kind != JsonKind.Array) continue;
    for (let k = 0; k < tags.items.length; k++) {
      const tag = tags.items[k];
      if (tag.kind == JsonKind.String && tag.string == 'sale') {
        sale.push(<i64>item.getNumber('id'));
        break;
      }
    }
  }
  const w = new ByteWriter();
  const j = new JsonWriter(w);
  j.beginObject();
  j.key('count');
  j.int(items.items.length);
  j.key('total');
  j.int(total);
  j.key('sale');
  j.beginArray();
  for (let i = 0; i < sale.length; i++) j.int(sale[i]);
  j.endArray();
  j.endObject();
  return w.toBytes();
}
