// The reference for JSON speed in `tradewire book-bench`: simdjson's On-Demand parse of the same Kraken
// `book` messages, parse only, every field visited (channel, type, each entry's symbol, every level's price
// and quantity, checksum, timestamp). Reads one message per line; prints "messages ns_per_message".
#include <simdjson.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    if (argc < 3) { std::fprintf(stderr, "usage: %s MESSAGES_FILE SECONDS\n", argv[0]); return 2; }
    std::ifstream in(argv[1]);
    std::vector<simdjson::padded_string> messages;
    for (std::string line; std::getline(in, line);) if (!line.empty()) messages.emplace_back(line);
    if (messages.empty()) return 2;
    double seconds = std::atof(argv[2]);
    simdjson::ondemand::parser parser;
    uint64_t sink = 0, count = 0;
    auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
        for (auto &m : messages) {
            auto doc = parser.iterate(m);
            std::string_view channel = doc["channel"].get_string();
            std::string_view type = doc["type"].get_string();
            sink += channel.size() + type.size();
            for (auto entry : doc["data"].get_array()) {
                auto e = entry.get_object();
                std::string_view symbol = e["symbol"].get_string();
                sink += symbol.size();
                for (const char *side : {"bids", "asks"}) {
                    for (auto level : e[side].get_array()) {
                        auto l = level.get_object();
                        // The exact text (a checksum needs it): the raw number tokens, not doubles.
                        std::string_view price = l["price"].raw_json_token();
                        std::string_view qty = l["qty"].raw_json_token();
                        sink += price.size() + qty.size();
                    }
                }
                sink += uint64_t(e["checksum"].get_uint64());
                std::string_view ts = e["timestamp"].get_string();
                sink += ts.size();
            }
            count++;
        }
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds);
    std::printf("%llu %.1f %llu\n", (unsigned long long)count, elapsed * 1e9 / double(count), (unsigned long long)(sink & 1));
    return 0;
}
