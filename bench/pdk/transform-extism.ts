// bench/pdk's transform with Extism's AssemblyScript PDK (@extism/as-pdk; the logic:
// transform-core.ts). Built with the same asc flags as ForgeOne's, and like ForgeOne's PDK
// it collects garbage after each call (the minimal runtime collects only when asked).
import { Host } from '@extism/as-pdk';
import { transformJson } from './transform-core';

export function transform(): i32 {
  const out = transformJson(Host.input());
  if (out === null) {
    Host.outputString('expected {"items":[...]}');
    __collect();
    return 1;
  }
  Host.output(out);
  __collect();
  return 0;
}

/** asc's abort, routed nowhere: a failed assertion traps (--use abort=...). */
function benchAbort(message: string | null, file: string | null, line: u32, column: u32): void {
  unreachable();
}
