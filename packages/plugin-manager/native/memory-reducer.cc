/*
 * A memory-reducing garbage collection on demand, for an idle sandbox process
 * (src/sandbox/process/idle-memory.ts). Node runs V8's memory reducer from a task on its
 * event loop; a sandbox waits for its next frame in a blocking read on its main thread, so
 * that task never runs, and the young generation its load touched (two 1 MiB semi-spaces)
 * stays resident for the sandbox's whole life. Built by scripts/build-native.mjs.
 *
 *   reduce()   v8::Isolate::LowMemoryNotification(): full collections until nothing more is
 *              freed, with the new space shrunk and freed pages returned to the kernel
 *
 * Not a Node-API module (Node-API has no such call): it uses V8's C++ API, so it is built
 * against the headers of the Node that builds it, and NODE_MODULE_INIT makes a Node of
 * another ABI version refuse to load it (the sandbox then keeps its memory, as before).
 */
#include <malloc.h>
#include <node.h>
#include <v8.h>

namespace {

void Reduce(const v8::FunctionCallbackInfo<v8::Value>& info) {
  info.GetIsolate()->LowMemoryNotification();
  malloc_trim(0);
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  NODE_SET_METHOD(exports, "reduce", Reduce);
}
