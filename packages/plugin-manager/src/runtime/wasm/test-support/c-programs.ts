import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Small C programs, compiled at test time to wasm32-wasi with clang, that exercise
 * real compiler output: libc, loops of every shape, indirect calls, malloc, floats.
 * Each prints what it computes, so an instrumented build must print the same. They
 * keep their heaps small (Node 20's node:wasi has crashed here when re-running
 * programs that grow memory to tens of MiB in one process).
 */
export const C_PROGRAMS = {
  compute: {
    flags: ['-O2'],
    source: String.raw`
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t sieve(uint32_t n) {
  uint8_t *composite = calloc(n + 1, 1);
  uint32_t count = 0;
  for (uint32_t i = 2; i <= n; i++) {
    if (composite[i]) continue;
    count++;
    for (uint64_t j = (uint64_t)i * i; j <= n; j += i) composite[j] = 1;
  }
  free(composite);
  return count;
}

static uint64_t collatz(uint32_t limit) {
  uint64_t total = 0;
  for (uint32_t start = 1; start < limit; start++) {
    uint64_t x = start;
    while (x != 1) { x = (x & 1) ? 3 * x + 1 : x >> 1; total++; }
  }
  return total;
}

static double matmul(int n) {
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = calloc(n * n, sizeof(double));
  for (int i = 0; i < n * n; i++) { a[i] = (i % 7) * 0.5; b[i] = (i % 5) * 0.25; }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) {
      double aik = a[i * n + k];
      for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  double sum = 0;
  for (int i = 0; i < n * n; i++) sum += c[i];
  free(a); free(b); free(c);
  return sum;
}

static uint32_t fnv(uint32_t rounds) {
  uint32_t h = 2166136261u;
  for (uint32_t r = 0; r < rounds; r++) { h ^= r & 0xff; h *= 16777619u; }
  return h;
}

typedef uint64_t (*op)(uint64_t);
static uint64_t twice(uint64_t x) { return x * 2; }
static uint64_t square(uint64_t x) { return x * x; }
static uint64_t inc(uint64_t x) { return x + 1; }

int main(int argc, char **argv) {
  unsigned scale = argc > 1 ? (unsigned)strtoul(argv[1], 0, 10) : 1;
  printf("primes below %u: %u\n", 100000 * scale, sieve(100000 * scale));
  printf("collatz steps below %u: %llu\n", 20000 * scale, (unsigned long long)collatz(20000 * scale));
  printf("matmul checksum: %.3f\n", matmul(40));
  printf("fnv: %08x\n", fnv(1000000 * scale));
  op ops[3] = {twice, square, inc};
  uint64_t x = 3;
  for (int i = 0; i < 30; i++) x = ops[(x + i) % 3](x) % 1000003;
  printf("indirect: %llu\n", (unsigned long long)x);
  return 0;
}
`,
  },
  strings: {
    flags: ['-O2'],
    source: String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned state = 12345;
static unsigned next(void) { state = state * 1103515245u + 12345u; return (state >> 16) & 0x7fff; }
static int compare(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  enum { N = 3000 };
  static char storage[N][12];
  static char *words[N];
  for (int i = 0; i < N; i++) {
    int length = 3 + next() % 8;
    for (int j = 0; j < length; j++) storage[i][j] = 'a' + next() % 26;
    storage[i][length] = 0;
    words[i] = storage[i];
  }
  qsort(words, N, sizeof words[0], compare);
  int unique = 1;
  for (int i = 1; i < N; i++) unique += strcmp(words[i - 1], words[i]) != 0;
  printf("first %s last %s unique %d\n", words[0], words[N - 1], unique);
  char line[256];
  snprintf(line, sizeof line, "%s|%5.2f|%-6d|%x|%e", argc > 1 ? argv[1] : "none", 3.14159, argc, 0xbeef, 1.0 / 3.0);
  size_t n = strlen(line);
  for (size_t i = 0; i < n / 2; i++) { char t = line[i]; line[i] = line[n - 1 - i]; line[n - 1 - i] = t; }
  printf("reversed %s\n", line);
  long total = 0;
  for (int i = 1; i < argc; i++) total += strtol(argv[i], NULL, 0);
  printf("args %d total %ld\n", argc, total);
  return 0;
}
`,
  },
  memory: {
    flags: ['-O2'],
    source: String.raw`
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; uint32_t value; };

int main(void) {
  struct node *head = NULL;
  for (uint32_t i = 0; i < 20000; i++) {
    struct node *n = malloc(sizeof *n);
    n->value = i * 2654435761u;
    n->next = head;
    head = n;
  }
  uint64_t sum = 0;
  while (head) { struct node *n = head; sum += n->value; head = n->next; free(n); }
  size_t size = 16;
  uint8_t *buffer = malloc(size);
  for (int round = 0; round < 16; round++) {
    buffer = realloc(buffer, size * 2);
    memset(buffer + size, round, size);
    size *= 2;
  }
  memmove(buffer + 1, buffer, size - 1);
  uint32_t check = 0;
  for (size_t i = 0; i < size; i += 97) check = check * 31 + buffer[i];
  free(buffer);
  const char *env = getenv("FORGE_TEST");
  printf("sum %llu size %zu check %u env %s\n", (unsigned long long)sum, size, check, env ? env : "(unset)");
  exit(3);
}
`,
  },
  simd: {
    flags: ['-O2', '-msimd128', '-mbulk-memory', '-mnontrapping-fptoint', '-msign-ext'],
    source: String.raw`
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasm_simd128.h>

static float data[4096];
static int8_t small[4096];

int main(void) {
  for (int i = 0; i < 4096; i++) { data[i] = (float)(i % 100) / 7.0f; small[i] = (int8_t)(i * 37); }
  v128_t acc = wasm_f32x4_splat(0);
  for (int i = 0; i < 4096; i += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(&data[i]), wasm_f32x4_splat(1.5f)));
  float lanes[4];
  wasm_v128_store(lanes, acc);
  int32_t sum = 0;
  for (int i = 0; i < 4096; i++) sum += small[i] * (i & 7);
  int truncated = 0;
  for (int i = 0; i < 4096; i++) truncated += (int)(data[i] * 3.7f);
  static uint8_t copy[4096];
  memcpy(copy, small, sizeof small);
  memset(copy + 100, 7, 1000);
  uint32_t check = 0;
  for (int i = 0; i < 4096; i++) check = check * 33 + copy[i];
  printf("lanes %.2f %.2f %.2f %.2f sum %d truncated %d check %u\n", lanes[0], lanes[1], lanes[2], lanes[3], sum, truncated, check);
  return 0;
}
`,
  },
  copies: {
    // memcpy, memmove and memset compile to memory.copy and memory.fill with bulk memory.
    flags: ['-O2', '-mbulk-memory'],
    source: String.raw`
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], 0, 10) : 40;
  size_t size = 1 << 20;
  uint8_t *a = malloc(size), *b = malloc(size);
  for (size_t i = 0; i < size; i++) a[i] = (uint8_t)(i * 131 + (i >> 9));
  uint64_t check = 0;
  for (unsigned r = 0; r < rounds; r++) {
    size_t length = ((size_t)r * 7919 + 1) % (size / 2);
    size_t from = ((size_t)r * 104729) % (size - length), to = ((size_t)r * 15485863) % (size - length);
    memcpy(b + to, a + from, length);
    memmove(a + (from / 2), a + from, length / 2);
    memset(b + (to / 3), (int)r, length / 3);
    for (size_t i = 0; i < size; i += 4093) check = check * 1099511628211u + b[i] + a[i];
  }
  printf("rounds %u check %llu\n", rounds, (unsigned long long)check);
  free(a); free(b);
  return 0;
}
`,
  },
  kernels: {
    // A reactor: no main; each kernel is an export the host calls (bench/fuel.mjs times them).
    flags: ['-O2', '-mexec-model=reactor'],
    source: String.raw`
#include <stdint.h>
#include <stdlib.h>

__attribute__((export_name("sieve"))) uint32_t sieve(uint32_t n) {
  uint8_t *composite = calloc(n + 1, 1);
  uint32_t count = 0;
  for (uint32_t i = 2; i <= n; i++) {
    if (composite[i]) continue;
    count++;
    for (uint64_t j = (uint64_t)i * i; j <= n; j += i) composite[j] = 1;
  }
  free(composite);
  return count;
}

__attribute__((export_name("matmul"))) double matmul(int n) {
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = calloc(n * n, sizeof(double));
  for (int i = 0; i < n * n; i++) { a[i] = (i % 7) * 0.5; b[i] = (i % 5) * 0.25; }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) {
      double aik = a[i * n + k];
      for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  double sum = 0;
  for (int i = 0; i < n * n; i++) sum += c[i];
  free(a); free(b); free(c);
  return sum;
}

__attribute__((export_name("collatz"))) uint64_t collatz(uint32_t limit) {
  uint64_t total = 0;
  for (uint32_t start = 1; start < limit; start++) {
    uint64_t x = start;
    while (x != 1) { x = (x & 1) ? 3 * x + 1 : x >> 1; total++; }
  }
  return total;
}

__attribute__((export_name("fnv"))) uint32_t fnv(uint32_t rounds) {
  uint32_t h = 2166136261u;
  for (uint32_t r = 0; r < rounds; r++) { h ^= r & 0xff; h *= 16777619u; }
  return h;
}

__attribute__((export_name("mix"))) uint32_t mix(uint32_t n) {
  uint32_t *p = malloc(n * sizeof *p);
  for (uint32_t i = 0; i < n; i++) p[i] = i * 2654435761u;
  uint32_t s = 0;
  for (int r = 0; r < 8; r++)
    for (uint32_t i = 0; i < n; i++) s = (s ^ p[i]) * 31 + (p[(i * 7) % n] >> (r + 1));
  free(p);
  return s;
}

__attribute__((export_name("fib"))) uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
`,
  },
} as const;

/** Arguments for each export of the `kernels` program: a few milliseconds of work each. */
export const KERNEL_ARGS: Readonly<Record<string, number>> = { sieve: 1_000_000, matmul: 120, collatz: 100_000, fnv: 20_000_000, mix: 200_000, fib: 25 };

/** The name of one of {@link C_PROGRAMS}. */
export type CProgram = keyof typeof C_PROGRAMS;

/** The clang arguments that compile `source` to `output` for wasm32-wasi. */
export function clangArgs(source: string, output: string, flags: readonly string[] = ['-O2']): string[] {
  return ['--target=wasm32-wasi', ...flags, source, '-o', output];
}

/** A tiny program that proves clang, lld and wasi-libc are all there. */
export function writeProbe(dir: string): string {
  const path = join(dir, 'probe.c');
  writeFileSync(path, 'int main(void) { return 0; }\n');
  return path;
}

/** A fresh temporary directory for compiled programs. */
export function programDir(): string {
  return mkdtempSync(join(tmpdir(), 'forge-wasm-c-'));
}

/**
 * Compiles one of {@link C_PROGRAMS} into `dir` and returns the module's bytes.
 * @throws Error with clang's output when compilation fails
 */
export function compileProgram(dir: string, name: CProgram): Uint8Array {
  const { source, flags } = C_PROGRAMS[name];
  const sourcePath = join(dir, `${name}.c`);
  const output = join(dir, `${name}.wasm`);
  writeFileSync(sourcePath, source);
  const result = spawnSync('clang', clangArgs(sourcePath, output, flags), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`clang failed for ${name}: ${result.stderr || result.error?.message || `exit ${result.status}`}`);
  return new Uint8Array(readFileSync(output));
}
