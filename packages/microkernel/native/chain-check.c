/*
 * Verification's per-line work in one native call per run of lines: the check that
 * src/audit/chain.ts's ChainChecker.check makes of each line, made here for a whole run of
 * a scanned chunk (ChainChecker.checkRun is the caller).
 *
 *   check(buf, start, end, limit, maxLine, io, hash) -> stop
 *     buf     Uint8Array: bytes of a log segment as read
 *     start   index in buf where the first line to check starts
 *     end     index in buf after the last byte read: a line ends at a '\n' before it
 *     limit   lines must start before this index (a verification range's end)
 *     maxLine longest line accepted, newline included
 *     io      Float64Array of 3: [0] seq of the last good record (read, then written);
 *             [1] a seq whose record must not be accepted here (0: none); [2] written:
 *             the number of lines accepted
 *     hash    Uint8Array of 64: the last good record's hash, lowercase hex (read, then
 *             written)
 *   Accepts lines from `start` on, one after the other, while each is a good next record:
 *   it has the form format.ts describes (`{"seq":` and a decimal seq of 1 to 15 digits
 *   without a leading zero, `,"ts":"`, 24 bytes, `","prev":"`, 64 bytes, `","type":"` and
 *   one of the four type words, and the tail `,"hash":"<64 bytes>"}`), the lowercase hex
 *   sha256 of its body is exactly its hash field, its seq is the last seq + 1 and its prev
 *   is exactly the last hash. It stops before the first line that is not complete in
 *   [start, end), starts at `limit` or later, is longer than maxLine, is not a good next
 *   record, is a checkpoint or recovery record (their fields are read in JS), or is the
 *   record io[1] names; that line is left to the JS checker, which says why a bad line is
 *   bad. Returns the index where it stopped: the start of that line.
 *
 * Never more lenient than the JS check: a line accepted here is one ChainChecker.check
 * accepts. Only the order in which the checks run differs (a bad line is re-checked in JS).
 *
 * SECURITY: every read is inside buf[start, end): each line is bounded by its newline,
 * found inside that range, and every fixed-offset field lies inside a line of at least
 * MIN_LINE bytes. Arguments that are not as described throw a TypeError or RangeError
 * before anything is read.
 */
#include <string.h>
#include "chain-native.h"

#define TIMESTAMP_LENGTH 24
/* `,"hash":"<64 hex>"}`: the fixed tail of every line. */
#define TAIL_LENGTH (HASH_OPEN_LENGTH + HEX_LENGTH + 2)
/* Largest seq a JS number holds exactly. */
#define MAX_SAFE 9007199254740991.0

static const char START[] = "{\"seq\":";
static const char TS_OPEN[] = ",\"ts\":\"";
static const char PREV_OPEN[] = "\",\"prev\":\"";
static const char TYPE_OPEN[] = "\",\"type\":\"";
static const char HASH_OPEN[] = ",\"hash\":\"";
#define LIT(text) (sizeof(text) - 1)
/* `{"seq":1` + ts + prev + type + `x"` + tail: the shortest line the format allows (as chain.ts MIN_LINE). */
#define MIN_LINE (LIT(START) + 1 + LIT(TS_OPEN) + TIMESTAMP_LENGTH + LIT(PREV_OPEN) + HEX_LENGTH + LIT(TYPE_OPEN) + 2 + TAIL_LENGTH)

/* The whole type word with its closing quote, by first letter; NULL: not a type. */
static const char* type_word(uint8_t first) {
  switch (first) {
    case 'e': return "event\"";
    case 'c': return "checkpoint\"";
    case 'r': return "recovery\"";
    case 's': return "segment\"";
    default: return NULL;
  }
}

/* The verdict on one line. */
enum verdict { GOOD, STOP };

/*
 * Checks line[0, length) (newline excluded) as the record after (last_seq, last_hash);
 * on GOOD sets *seq and *hash_at (where its hash field is). `stop_seq` and the special
 * types answer STOP without hashing.
 */
static enum verdict check_line(const uint8_t* line, size_t length, int64_t last_seq, const uint8_t* last_hash, int64_t stop_seq, int64_t* seq, const uint8_t** hash_at) {
  if (length < MIN_LINE || memcmp(line, START, LIT(START)) != 0) return STOP;
  size_t at = LIT(START);
  const size_t digits_start = at;
  uint64_t value = 0;
  /* At most 16 digits are read: more is refused, and MIN_LINE keeps all of them inside the line. */
  while (at - digits_start <= 15 && line[at] >= '0' && line[at] <= '9') value = value * 10 + (uint64_t)(line[at++] - '0');
  const size_t digits = at - digits_start;
  if (digits == 0 || digits > 15 || (digits > 1 && line[digits_start] == '0')) return STOP;
  if (memcmp(line + at, TS_OPEN, LIT(TS_OPEN)) != 0) return STOP;
  at += LIT(TS_OPEN) + TIMESTAMP_LENGTH;
  if (memcmp(line + at, PREV_OPEN, LIT(PREV_OPEN)) != 0) return STOP;
  const size_t prev_at = at + LIT(PREV_OPEN);
  at = prev_at + HEX_LENGTH;
  if (memcmp(line + at, TYPE_OPEN, LIT(TYPE_OPEN)) != 0) return STOP;
  at += LIT(TYPE_OPEN);
  /* The longest word ends 15 + 7 + 24 + 10 + 64 + 10 + 11 = 141 bytes into the line, inside MIN_LINE. */
  const char* word = type_word(line[at]);
  if (word == NULL || memcmp(line + at, word, strlen(word)) != 0) return STOP;
  /* Checkpoints and recoveries: their fields are read in JS, which checks the whole line. */
  if (line[at] == 'c' || line[at] == 'r') return STOP;
  const size_t body_end = length - TAIL_LENGTH;
  if (body_end <= at || memcmp(line + body_end, HASH_OPEN, LIT(HASH_OPEN)) != 0 || line[length - 2] != '"' || line[length - 1] != '}') return STOP;
  if ((int64_t)value != last_seq + 1 || (int64_t)value == stop_seq || memcmp(line + prev_at, last_hash, HEX_LENGTH) != 0) return STOP;
  uint8_t computed[HEX_LENGTH];
  const uint8_t* stored = line + body_end + HASH_OPEN_LENGTH;
  if (!chain_sha256_hex(line, body_end, computed) || memcmp(computed, stored, HEX_LENGTH) != 0) return STOP;
  *seq = (int64_t)value;
  *hash_at = stored;
  return GOOD;
}

static int read_index(napi_env env, napi_value value, double* out) {
  return napi_get_value_double(env, value, out) == napi_ok && *out >= 0 && *out <= MAX_SAFE && *out == (double)(int64_t)*out;
}

napi_value chain_check(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  size_t argc = 7;
  uint8_t* buf = NULL;
  double* io = NULL;
  uint8_t* hash = NULL;
  size_t buf_length = 0, io_length = 0, hash_length = 0;
  double start = 0, end = 0, limit = 0, max_line = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 7 || !chain_typed_array(env, argv[0], napi_uint8_array, (void**)&buf, &buf_length) ||
      !read_index(env, argv[1], &start) || !read_index(env, argv[2], &end) || !read_index(env, argv[3], &limit) || !read_index(env, argv[4], &max_line) ||
      !chain_typed_array(env, argv[5], napi_float64_array, (void**)&io, &io_length) || !chain_typed_array(env, argv[6], napi_uint8_array, (void**)&hash, &hash_length)) {
    napi_throw_type_error(env, NULL, "check(buf: Uint8Array, start, end, limit, maxLine: whole numbers, io: Float64Array, hash: Uint8Array)");
    return NULL;
  }
  if (io_length != 3 || hash_length != HEX_LENGTH || !chain_is_lower_hex(hash, HEX_LENGTH) || !(io[0] >= 0 && io[0] <= MAX_SAFE && io[0] == (double)(int64_t)io[0]) ||
      !(io[1] >= 0 && io[1] <= MAX_SAFE)) {
    napi_throw_type_error(env, NULL, "check: io is not [seq, stop seq, lines] or hash is not 64 lowercase hex characters");
    return NULL;
  }
  if (start > end || end > (double)buf_length) {
    napi_throw_range_error(env, NULL, "check: start and end are not a range of buf");
    return NULL;
  }
  int64_t last_seq = (int64_t)io[0];
  const int64_t stop_seq = (int64_t)io[1];
  uint8_t last_hash[HEX_LENGTH];
  memcpy(last_hash, hash, HEX_LENGTH);
  const uint8_t* const stop_end = buf + (size_t)end;
  const uint8_t* line = buf + (size_t)start;
  const uint8_t* const line_limit = buf + (size_t)(limit < end ? limit : end);
  double lines = 0;
  while (line < line_limit) {
    const uint8_t* newline = memchr(line, '\n', (size_t)(stop_end - line));
    if (newline == NULL || (double)(newline - line) + 1 > max_line) break;
    int64_t seq = 0;
    const uint8_t* hash_at = NULL;
    if (check_line(line, (size_t)(newline - line), last_seq, last_hash, stop_seq, &seq, &hash_at) != GOOD) break;
    last_seq = seq;
    memcpy(last_hash, hash_at, HEX_LENGTH);
    lines += 1;
    line = newline + 1;
  }
  io[0] = (double)last_seq;
  io[2] = lines;
  memcpy(hash, last_hash, HEX_LENGTH);
  napi_value result;
  napi_create_double(env, (double)(line - buf), &result);
  return result;
}
