#include "tools/check_report.hpp"

#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <mutex>
#include <ostream>
#include <thread>

#include "http/api_error.hpp"
#include "logging/log_text.hpp"
#include "pipeline/hook_calls.hpp"

namespace llmproxy {

namespace {

// The concurrency check: this many threads, each sending this many requests.
constexpr int kThreads = 4;
constexpr int kRequestsPerThread = 250;

}  // namespace

const Trace& Trace::silent() {
    static const Trace none(nullptr);
    return none;
}

void Trace::operator()(const std::string& line) const {
    if (out_)
        *out_ << "      " << line << "\n";
}

void Report::pass(const std::string& what) {
    ++passed_;
    out_ << "PASS  " << what << "\n";
}

void Report::fail(const std::string& what, const std::string& why) {
    ++failed_;
    out_ << "FAIL  " << what << ": " << why << "\n";
}

void Report::skip(const std::string& what, const std::string& why) {
    ++skipped_;
    out_ << "SKIP  " << what << ": " << why << "\n";
}

void Report::check(const std::string& what, const std::function<void(const Trace&)>& body,
                   bool trace_hooks) {
    if (verbose_)
        out_ << "RUN   " << what << "\n";
    try {
        body(verbose_ && trace_hooks ? Trace(&out_) : Trace::silent());
        pass(what);
    } catch (const ApiException& e) {
        fail(what, e.error().message);
    } catch (const std::exception& e) {
        fail(what, e.what());
    } catch (...) {
        fail(what, "an exception that is not a std::exception escaped");
    }
}

int Report::finish() {
    out_ << "\nverdict: " << passed_ << " checks passed, " << failed_ << " failed";
    if (skipped_)
        out_ << ", " << skipped_ << " skipped";
    out_ << "\n";
    return failed_ == 0 ? 0 : 1;
}

LogToOutput::LogToOutput(std::ostream& out) : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(
        "plugin-check", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    logger->set_pattern("      log %l %v");
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

LogToOutput::~LogToOutput() {
    spdlog::set_default_logger(previous_);
}

void run_concurrently(const std::function<void(int)>& request) {
    QuietLog quiet;
    std::atomic<int> failures{0};
    std::string first_error;
    std::mutex mutex;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kRequestsPerThread; ++i) {
                std::string error;
                try {
                    request(t + i);
                    continue;
                } catch (const ApiException& e) {
                    error = e.error().message;
                } catch (const std::exception& e) {
                    error = e.what();
                } catch (...) {
                    error = "an exception that is not a std::exception";
                }
                std::lock_guard lock(mutex);
                if (failures++ == 0)
                    first_error = error;
            }
        });
    for (auto& th : threads)
        th.join();
    if (failures)
        throw CheckFailure(std::to_string(failures.load()) + " of " +
                           std::to_string(kThreads * kRequestsPerThread) +
                           " requests failed, first: " + first_error);
}

std::string shown(std::string_view text) {
    return "\"" + printable(text, 160) + "\"";
}

const char* status_name(lp_status status) {
    switch (status) {
        case LP_CONTINUE:
            return "LP_CONTINUE";
        case LP_DROP:
            return "LP_DROP";
        case LP_RESPONDED:
            return "LP_RESPONDED";
        case LP_FAILED:
            return "LP_FAILED";
        default:
            return "an unknown status";
    }
}

std::string events_text(const std::vector<StreamEvent>& events, std::size_t from) {
    if (events.size() == from)
        return "no events";
    std::string out = std::to_string(events.size() - from) + " event(s):";
    for (std::size_t i = from; i < events.size(); ++i)
        out += " " + (events[i].name.empty() ? "" : events[i].name + ":") + shown(events[i].data);
    return out;
}

std::string answer_text(const Answer& answer) {
    return std::to_string(answer.status) + " " + answer.content_type + " " + shown(answer.body);
}

}  // namespace llmproxy
