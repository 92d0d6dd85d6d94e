// `llm-proxy plugin check FILE.so [--config JSON]`: the conformance checker. Loads one plugin
// alone, reports what it is, then exercises every provider and processor it exports the way the
// host will (lifecycle, error paths, concurrency, streams split at every byte) and prints a
// verdict per check. Returns 0 when every check passed.
#pragma once

#include <iosfwd>
#include <string>

namespace llmproxy {

struct PluginCheckOptions {
    std::string file;
    // For providers: {"base_url","type","api_key","options"}; for processors:
    // {"config_value","additional_config"}. Both kinds read from the same object.
    std::string config_json = "{}";
    std::string type;  // check only this export (a plugin may hold several); empty: all
};

int run_plugin_check(const PluginCheckOptions& options, std::ostream& out);

}  // namespace llmproxy
