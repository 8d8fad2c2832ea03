// Parse-only baseline for the benchmark: how fast can simdjson alone walk a JSON-lines file?
//
//   g++ -O2 -std=c++17 Benchmarks/baseline/simdjson_parse.cpp -lsimdjson -o bench-data/bin/simdjson_parse
//   simdjson_parse ondemand FILE     # on-demand API: reads time, operationName, callerIpAddress of each record
//   simdjson_parse dom FILE          # DOM API (what Vigil's shim uses): full parse and validation of each record
//
// The file is read in fixed 8 MiB blocks cut at the last newline, so memory stays flat whatever the
// file size. Each record is touched (three fields read, lengths summed) so the work cannot be skipped.
// Prints one line: records, bytes, errors and a checksum.
#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr size_t kBlock = 8u << 20;

struct Totals {
    size_t records = 0;
    size_t errors = 0;
    size_t checksum = 0;
};

void scan_ondemand(simdjson::ondemand::parser &parser, const char *buf, size_t len, Totals &t) {
    simdjson::ondemand::document_stream stream;
    if (parser.iterate_many(buf, len, 1u << 20).get(stream)) {
        t.errors++;
        return;
    }
    for (auto doc : stream) {
        std::string_view time, op, ip;
        simdjson::ondemand::object obj;
        if (doc.get_object().get(obj)) { t.errors++; continue; }
        // Fields in document order, as an on-demand user would read them.
        if (obj["time"].get_string().get(time)) { t.errors++; continue; }
        if (obj["operationName"].get_string().get(op)) { t.errors++; continue; }
        if (!obj["callerIpAddress"].get_string().get(ip)) t.checksum += ip.size();
        t.checksum += time.size() + op.size();
        t.records++;
    }
}

void scan_dom(simdjson::dom::parser &parser, const char *buf, size_t len, Totals &t) {
    simdjson::dom::document_stream stream;
    if (parser.parse_many(reinterpret_cast<const uint8_t *>(buf), len, 1u << 20).get(stream)) {
        t.errors++;
        return;
    }
    for (auto doc : stream) {
        simdjson::dom::element e;
        if (doc.get(e)) { t.errors++; continue; }
        std::string_view time, op, ip;
        if (e["time"].get(time) || e["operationName"].get(op)) { t.errors++; continue; }
        if (!e["callerIpAddress"].get(ip)) t.checksum += ip.size();
        t.checksum += time.size() + op.size();
        t.records++;
    }
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 3 || (std::strcmp(argv[1], "ondemand") != 0 && std::strcmp(argv[1], "dom") != 0)) {
        std::fprintf(stderr, "usage: %s ondemand|dom FILE\n", argv[0]);
        return 2;
    }
    const bool ondemand = std::strcmp(argv[1], "ondemand") == 0;
    FILE *f = std::fopen(argv[2], "rb");
    if (!f) {
        std::perror(argv[2]);
        return 1;
    }
    std::vector<char> buf(kBlock + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::parser od;
    simdjson::dom::parser dom;
    Totals t;
    size_t carry = 0, bytes = 0;
    for (;;) {
        size_t n = std::fread(buf.data() + carry, 1, kBlock - carry, f);
        bytes += n;
        size_t filled = carry + n;
        if (filled == 0) break;
        size_t end = filled;
        if (n != 0) {  // cut at the last newline; keep the partial line for the next block
            while (end > 0 && buf[end - 1] != '\n') end--;
            if (end == 0) {
                std::fprintf(stderr, "a line is longer than the %zu-byte block\n", kBlock);
                return 1;
            }
        }
        if (ondemand) scan_ondemand(od, buf.data(), end, t);
        else scan_dom(dom, buf.data(), end, t);
        carry = filled - end;
        std::memmove(buf.data(), buf.data() + end, carry);
        if (n == 0) break;
    }
    std::fclose(f);
    std::printf("records=%zu bytes=%zu errors=%zu checksum=%zu\n", t.records, bytes, t.errors, t.checksum);
    return t.errors == 0 ? 0 : 1;
}
