// `llm-proxy plugin check FILE.so [--type NAME] [--config JSON] [--verbose]`: the conformance
// checker. Loads one plugin alone, reports what it is and the settings its instances get, then
// exercises every provider and processor it exports the way the host will (lifecycle, error
// paths, concurrency, streams split at every byte, chat and embedding requests) and prints a
// verdict per check.
#pragma once

#include <iosfwd>
#include <string>

namespace llmproxy {

struct PluginCheckOptions {
    std::string file;
    // Instance settings (tools/check_settings.hpp). For providers: {"base_url","api_key","type",
    // "options"}; for processors: {"config_value","additional_config"}. Both kinds read from the
    // same object.
    std::string config_json = "{}";
    std::string type;      // check only this export (a plugin may hold several); empty: all
    bool verbose = false;  // show the plugin's log lines and what each hook produced
    // Files with the upstream's whole answer and stream that providers are checked with, for a
    // provider whose upstream does not speak OpenAI's format; empty: OpenAI-format samples.
    std::string upstream_answer_file;
    std::string upstream_stream_file;
};

// Returns 0 when every check passed, 1 when one failed (or the plugin cannot be loaded), 2 when
// the options cannot be used (the reason on err).
int run_plugin_check(const PluginCheckOptions& options, std::ostream& out, std::ostream& err);

}  // namespace llmproxy
