// One line per request answered ([server] access_log): "text" (key=value, in the log's own
// format, the default), "json" (one JSON object per line, nothing before it, for log pipelines),
// or "off". Lines are written at level info, so log_level above info silences them too.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/request_flow.hpp"

namespace spdlog {
class logger;
}

namespace llmproxy {

// What the line says of a request.
struct AccessRecord {
    const std::string& request_id;
    std::string_view method;
    std::string_view path;
    std::string_view route;  // "-" when none took it
    const FlowOutcome& outcome;
    double duration_ms = 0;
    std::string_view key = {};  // the id of the client key it came with; empty: none
};

class AccessLog {
  public:
    enum class Format { text, json, off };

    // The json format writes to stderr through a logger and sink of its own.
    explicit AccessLog(Format format);
    ~AccessLog();

    void write(const AccessRecord& record) const;

    // "text", "json" or "off"; nullopt for any other name.
    static std::optional<Format> format_named(std::string_view name);

  private:
    Format format_;
    std::shared_ptr<spdlog::logger> json_;
};

}  // namespace llmproxy
