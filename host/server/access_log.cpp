#include "server/access_log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fmt/format.h>
#include <chrono>

#include "json/json_fields.hpp"
#include "logging/log_text.hpp"

namespace llmproxy {

AccessLog::AccessLog(Format format) : format_(format) {
    if (format_ != Format::json)
        return;
    // A sink of its own: a logger's pattern is its sinks', and the log's other lines keep theirs.
    // Both write whole lines to stderr, one fwrite each, so lines never mix.
    json_ = std::make_shared<spdlog::logger>("access",
                                             std::make_shared<spdlog::sinks::stderr_sink_mt>());
    json_->set_pattern("%v");
}

AccessLog::~AccessLog() = default;

std::optional<AccessLog::Format> AccessLog::format_named(std::string_view name) {
    if (name == "text")
        return Format::text;
    if (name == "json")
        return Format::json;
    if (name == "off")
        return Format::off;
    return std::nullopt;
}

void AccessLog::write(const AccessRecord& r) const {
    if (format_ == Format::off || !spdlog::should_log(spdlog::level::info))
        return;
    const FlowOutcome& o = r.outcome;
    if (format_ == Format::text) {
        spdlog::info(
            "access method={} path={} route={} status={} upstream_status={} stream={} "
            "duration_ms={:.3f} overhead_ms={:.3f} llm={} attempts={}{}{}{}",
            r.method, r.path, r.route, o.status, o.upstream_status, o.streamed ? "true" : "false",
            r.duration_ms, o.overhead_ms, o.llm ? std::string_view(o.llm->config->name) : "-",
            o.attempts, r.key.empty() ? "" : " key=" + std::string(r.key),
            o.client_gone ? " client_gone=true" : "",
            o.error.empty() ? "" : " error=\"" + printable(o.error, 4096) + "\"");
        return;
    }
    std::string line = R"({"time":")" + utc_timestamp() + R"(","request_id":)";
    json_fields::append_quoted(line, r.request_id);
    auto text = [&](std::string_view key, std::string_view value, bool known = true) {
        line += ",\"";
        line += key;
        line += "\":";
        if (known)
            json_fields::append_quoted(line, value);
        else
            line += "null";
    };
    auto number = [&](std::string_view key, auto value, bool known = true) {
        if (known)
            fmt::format_to(std::back_inserter(line), R"(,"{}":{})", key, value);
        else
            fmt::format_to(std::back_inserter(line), R"(,"{}":null)", key);
    };
    auto ms = [&](std::string_view key, double value) {
        if (value < 0)
            return number(key, 0, false);
        fmt::format_to(std::back_inserter(line), R"(,"{}":{:.3f})", key, value);
    };
    text("method", r.method);
    text("path", r.path);
    text("route", r.route, r.route != "-");
    text("key", r.key, !r.key.empty());
    text("llm", o.llm ? std::string_view(o.llm->config->name) : "", o.llm != nullptr);
    text("model", o.model, !o.model.empty());
    number("status", o.status);
    number("upstream_status", o.upstream_status, o.upstream_status != 0);
    line += o.streamed ? R"(,"stream":true)" : R"(,"stream":false)";
    number("input_tokens", o.input_tokens, o.input_tokens >= 0);
    number("output_tokens", o.output_tokens, o.output_tokens >= 0);
    ms("first_byte_ms", o.first_byte_ms);
    ms("duration_ms", r.duration_ms);
    ms("overhead_ms", o.overhead_ms);
    number("attempts", o.attempts);
    number("fallbacks", o.fallbacks);
    line += o.client_gone ? R"(,"client_gone":true)" : R"(,"client_gone":false)";
    text("error", o.error, !o.error.empty());
    line += '}';
    // Client and upstream text is escaped and its bytes that are not UTF-8 replaced: one line,
    // nothing to forge.
    json_->info(line);
}

}  // namespace llmproxy
