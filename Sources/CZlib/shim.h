#include <zlib.h>
/* inflateInit2/deflateInit2 are function-like macros, which Swift cannot import. */
static inline int czlib_inflate_init_gzip(z_stream *s) { return inflateInit2(s, 16 + MAX_WBITS); }
static inline int czlib_inflate_init_auto(z_stream *s) { return inflateInit2(s, 32 + MAX_WBITS); }
static inline int czlib_deflate_init_gzip(z_stream *s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}
