/* vigil_json: simdjson behind a plain C API.
 *
 * A document is flattened into a preorder array of nodes plus a byte arena holding every key and
 * string value, already unescaped. Containers record `end`, the index one past their last
 * descendant, so siblings are found by jumping from one `end` to the next without recursion.
 * Nothing here keeps pointers into the caller's buffer: the Swift side copies nodes and arena.
 */
#ifndef VIGIL_JSON_H
#define VIGIL_JSON_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* Readable bytes simdjson needs after a document it parses in place. */
#define VJ_PADDING 64
#define VJ_NO_KEY 0xFFFFFFFFu

enum vj_type {
    VJ_NULL = 0, VJ_FALSE = 1, VJ_TRUE = 2, VJ_INT = 3, VJ_UINT = 4, VJ_DOUBLE = 5,
    VJ_STRING = 6, VJ_ARRAY = 7, VJ_OBJECT = 8
};

typedef struct vj_node {
    uint32_t type;     /* enum vj_type */
    uint32_t end;      /* index one past the last descendant (self + 1 for scalars) */
    uint32_t key_off;  /* key in the arena, for object members */
    uint32_t key_len;  /* VJ_NO_KEY for the root and array elements */
    union {
        int64_t i;
        uint64_t u;
        double d;
        struct { uint32_t off, len; } s; /* strings: span in the arena */
        uint64_t count;                  /* containers: number of direct children */
    } v;
} vj_node;

/* Parser state is per thread (a thread_local simdjson parser and output buffers), so these calls
 * are safe from any thread; the returned pointers stay valid until the same thread parses again. */
typedef struct vj_result {
    int error;                 /* 0 on success, else a simdjson error code */
    const vj_node *nodes;
    size_t node_count;
    const uint8_t *arena;
    size_t arena_len;
} vj_result;

/* `padded` != 0 promises VJ_PADDING readable bytes after buf[len]; otherwise the input is copied. */
vj_result vj_parse(const uint8_t *buf, size_t len, int padded);

/* A stable, human-readable message for an error code. */
const char *vj_error_message(int error);

/* Error code simdjson uses for invalid UTF-8, depth and capacity, for the Swift side to classify. */
int vj_error_utf8(void);
int vj_error_depth(void);

/* A fast 64-bit hash of bytes (record identity for dedup). Not cryptographic. */
uint64_t vj_hash64(const uint8_t *buf, size_t len, uint64_t seed);

/* Name of the simdjson kernel chosen at run time (for benchmarks). */
const char *vj_implementation(void);

#ifdef __cplusplus
}
#endif
#endif
