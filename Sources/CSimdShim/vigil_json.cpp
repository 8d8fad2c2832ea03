// The only code that touches simdjson. It parses with the DOM API (validating, UTF-8 checked) and
// flattens the tree into vj_node records; see include/vigil_json.h for the layout.
#include "vigil_json.h"
#include <simdjson.h>
#include <cstring>
#include <string>
#include <vector>

namespace {

// Output buffers are sized once per document from upper bounds and never shrink, so the walk
// writes through raw pointers with no capacity checks: every node consumes at least one input
// byte and a separator (nodes <= len / 2 + 2), and unescaped keys and strings are never longer
// than their escaped source (arena <= len).
struct Flattener {
    std::vector<vj_node> nodes;
    std::vector<uint8_t> arena;
    vj_node *np = nullptr;
    size_t ncount = 0;
    uint8_t *ap = nullptr;
    size_t alen = 0;

    void reset(size_t input_len) {
        size_t need_nodes = input_len / 2 + 4;
        if (nodes.size() < need_nodes) nodes.resize(need_nodes);
        if (arena.size() < input_len + 1) arena.resize(input_len + 1);
        np = nodes.data();
        ap = arena.data();
        ncount = 0;
        alen = 0;
    }

    uint32_t put(std::string_view s) {
        uint32_t off = static_cast<uint32_t>(alen);
        std::memcpy(ap + alen, s.data(), s.size());
        alen += s.size();
        return off;
    }

    void walk(simdjson::dom::element e, uint32_t key_off, uint32_t key_len) {
        size_t idx = ncount++;
        vj_node &n = np[idx];
        n.key_off = key_off;
        n.key_len = key_len;
        n.v.u = 0;
        switch (e.type()) {
        case simdjson::dom::element_type::ARRAY: {
            n.type = VJ_ARRAY;
            uint64_t count = 0;
            for (simdjson::dom::element child : simdjson::dom::array(e)) {
                walk(child, 0, VJ_NO_KEY);
                ++count;
            }
            np[idx].v.count = count;
            break;
        }
        case simdjson::dom::element_type::OBJECT: {
            n.type = VJ_OBJECT;
            uint64_t count = 0;
            for (simdjson::dom::key_value_pair field : simdjson::dom::object(e)) {
                uint32_t k = put(field.key);
                walk(field.value, k, static_cast<uint32_t>(field.key.size()));
                ++count;
            }
            np[idx].v.count = count;
            break;
        }
        case simdjson::dom::element_type::INT64:
            n.type = VJ_INT; n.v.i = int64_t(e); break;
        case simdjson::dom::element_type::UINT64:
            n.type = VJ_UINT; n.v.u = uint64_t(e); break;
        case simdjson::dom::element_type::DOUBLE:
            n.type = VJ_DOUBLE; n.v.d = double(e); break;
        case simdjson::dom::element_type::STRING: {
            std::string_view s = std::string_view(e);
            n.type = VJ_STRING;
            n.v.s.off = put(s);
            n.v.s.len = static_cast<uint32_t>(s.size());
            break;
        }
        case simdjson::dom::element_type::BOOL:
            n.type = bool(e) ? VJ_TRUE : VJ_FALSE; break;
        case simdjson::dom::element_type::NULL_VALUE:
            n.type = VJ_NULL; break;
        }
        np[idx].end = static_cast<uint32_t>(ncount);
    }
};

struct State {
    simdjson::dom::parser parser;
    Flattener flat;
};

State &state() {
    thread_local State s;
    return s;
}

} // namespace

extern "C" vj_result vj_parse(const uint8_t *buf, size_t len, int padded) {
    State &st = state();
    vj_result r{};
    simdjson::dom::element root;
    auto error = st.parser.parse(buf, len, padded == 0).get(root);
    if (error) {
        r.error = int(error);
        return r;
    }
    st.flat.reset(len);
    st.flat.walk(root, 0, VJ_NO_KEY);
    r.nodes = st.flat.np;
    r.node_count = st.flat.ncount;
    r.arena = st.flat.ap;
    r.arena_len = st.flat.alen;
    return r;
}

extern "C" const char *vj_error_message(int error) {
    switch (simdjson::error_code(error)) {
    case simdjson::UTF8_ERROR: return "invalid UTF-8";
    case simdjson::DEPTH_ERROR: return "nesting too deep (over 1024 levels)";
    case simdjson::CAPACITY: return "document too large";
    case simdjson::EMPTY: return "empty document";
    case simdjson::UNCLOSED_STRING: return "unterminated string";
    case simdjson::STRING_ERROR: return "invalid string (control character or bad escape)";
    case simdjson::UNESCAPED_CHARS: return "unescaped control character in string";
    case simdjson::NUMBER_ERROR: return "invalid number";
    case simdjson::T_ATOM_ERROR: return "invalid literal (expected true)";
    case simdjson::F_ATOM_ERROR: return "invalid literal (expected false)";
    case simdjson::N_ATOM_ERROR: return "invalid literal (expected null)";
    case simdjson::TAPE_ERROR: return "malformed JSON structure";
    default: return simdjson::error_message(simdjson::error_code(error));
    }
}

extern "C" int vj_error_utf8(void) { return int(simdjson::UTF8_ERROR); }
extern "C" int vj_error_depth(void) { return int(simdjson::DEPTH_ERROR); }

namespace {
inline uint64_t vj_mix(uint64_t w) {
    w *= 0xBF58476D1CE4E5B9ull;
    return w ^ (w >> 31);
}
} // namespace

extern "C" uint64_t vj_hash64(const uint8_t *p, size_t len, uint64_t seed) {
    // 64-bit multiply-xorshift (in the spirit of wyhash/murmur): fast and well mixed enough for
    // record identity; collisions only merge identical-looking records. Four independent lanes of
    // 8-byte words, so the multiply latency of one lane overlaps the others (a 3 KB record hashes
    // in ~100 iterations instead of a 375-step dependent chain); lanes are folded at the end.
    const uint64_t m = 0x9E3779B97F4A7C15ull;
    uint64_t h0 = seed ^ (uint64_t(len) * m);
    uint64_t h1 = h0 ^ 0x243F6A8885A308D3ull, h2 = h0 ^ 0x13198A2E03707344ull, h3 = h0 ^ 0xA4093822299F31D0ull;
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        uint64_t w0, w1, w2, w3;
        std::memcpy(&w0, p + i, 8);
        std::memcpy(&w1, p + i + 8, 8);
        std::memcpy(&w2, p + i + 16, 8);
        std::memcpy(&w3, p + i + 24, 8);
        h0 = (h0 ^ vj_mix(w0)) * m; h0 ^= h0 >> 29;
        h1 = (h1 ^ vj_mix(w1)) * m; h1 ^= h1 >> 29;
        h2 = (h2 ^ vj_mix(w2)) * m; h2 ^= h2 >> 29;
        h3 = (h3 ^ vj_mix(w3)) * m; h3 ^= h3 >> 29;
    }
    uint64_t h = h0;
    h = (h ^ vj_mix(h1)) * m; h ^= h >> 29;
    h = (h ^ vj_mix(h2)) * m; h ^= h >> 29;
    h = (h ^ vj_mix(h3)) * m; h ^= h >> 29;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = (h ^ vj_mix(w)) * m;
        h ^= h >> 29;
    }
    uint64_t tail = 0;
    for (size_t j = 0; i + j < len; ++j) tail |= uint64_t(p[i + j]) << (8 * j);
    h = (h ^ (tail * 0x94D049BB133111EBull)) * m;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h;
}

extern "C" const char *vj_implementation(void) {
    return simdjson::get_active_implementation()->name().data();
}
