// The only code that touches simdjson. It parses with the DOM API (validating, UTF-8 checked) and
// flattens the tree into vj_node records; see include/vigil_json.h for the layout.
#include "vigil_json.h"
#include <simdjson.h>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Flattener {
    std::vector<vj_node> nodes;
    std::vector<uint8_t> arena;

    uint32_t put(std::string_view s) {
        uint32_t off = static_cast<uint32_t>(arena.size());
        arena.insert(arena.end(), s.begin(), s.end());
        return off;
    }

    void walk(simdjson::dom::element e, uint32_t key_off, uint32_t key_len) {
        size_t idx = nodes.size();
        nodes.push_back(vj_node{});
        vj_node n{};
        n.key_off = key_off;
        n.key_len = key_len;
        switch (e.type()) {
        case simdjson::dom::element_type::ARRAY: {
            n.type = VJ_ARRAY;
            uint64_t count = 0;
            for (simdjson::dom::element child : simdjson::dom::array(e)) {
                walk(child, 0, VJ_NO_KEY);
                ++count;
            }
            n.v.count = count;
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
            n.v.count = count;
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
        n.end = static_cast<uint32_t>(nodes.size());
        nodes[idx] = n;
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
    st.flat.nodes.clear();
    st.flat.arena.clear();
    st.flat.walk(root, 0, VJ_NO_KEY);
    r.nodes = st.flat.nodes.data();
    r.node_count = st.flat.nodes.size();
    r.arena = st.flat.arena.data();
    r.arena_len = st.flat.arena.size();
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

extern "C" uint64_t vj_hash64(const uint8_t *p, size_t len, uint64_t seed) {
    // 64-bit multiply-xorshift over 8-byte words (in the spirit of wyhash/murmur): fast and
    // well mixed enough for record identity; collisions only merge identical-looking records.
    const uint64_t m = 0x9E3779B97F4A7C15ull;
    uint64_t h = seed ^ (uint64_t(len) * m);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        w *= 0xBF58476D1CE4E5B9ull;
        w ^= w >> 31;
        h = (h ^ w) * m;
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
