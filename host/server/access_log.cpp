#include "server/access_log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "logging/log_text.hpp"

namespace llmproxy {

namespace {

// "2026-11-30T08:37:26.227Z"
std::string utc_now() {
    const auto now = std::chrono::system_clock::now();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    return text;
}

// ms rounded to the microsecond; null when unknown (negative).
nlohmann::json ms_or_null(double ms) {
    return ms < 0 ? nlohmann::json(nullptr) : nlohmann::json(std::round(ms * 1000) / 1000);
}

nlohmann::json count_or_null(std::int64_t n) {
    return n < 0 ? nlohmann::json(nullptr) : nlohmann::json(n);
}

}  // namespace

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
            "duration_ms={:.3f} overhead_ms={:.3f} llm={} attempts={}{}{}",
            r.method, r.path, r.route, o.status, o.upstream_status, o.streamed ? "true" : "false",
            r.duration_ms, o.overhead_ms, o.llm ? std::string_view(o.llm->config->name) : "-",
            o.attempts, o.client_gone ? " client_gone=true" : "",
            o.error.empty() ? "" : " error=\"" + printable(o.error, 4096) + "\"");
        return;
    }
    nlohmann::json line = {
        {"time", utc_now()},
        {"request_id", r.request_id},
        {"method", r.method},
        {"path", r.path},
        {"route", r.route == "-" ? nlohmann::json(nullptr) : nlohmann::json(r.route)},
        {"llm", o.llm ? nlohmann::json(o.llm->config->name) : nlohmann::json(nullptr)},
        {"model", o.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.model)},
        {"status", o.status},
        {"upstream_status",
         o.upstream_status == 0 ? nlohmann::json(nullptr) : nlohmann::json(o.upstream_status)},
        {"stream", o.streamed},
        {"input_tokens", count_or_null(o.input_tokens)},
        {"output_tokens", count_or_null(o.output_tokens)},
        {"first_byte_ms", ms_or_null(o.first_byte_ms)},
        {"duration_ms", ms_or_null(r.duration_ms)},
        {"overhead_ms", ms_or_null(o.overhead_ms)},
        {"attempts", o.attempts},
        {"fallbacks", o.fallbacks},
        {"client_gone", o.client_gone},
        {"error", o.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.error)},
    };
    // Client and upstream bytes that are not UTF-8 are replaced; one line, nothing to forge.
    json_->info(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace llmproxy
