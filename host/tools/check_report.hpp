// The output of `llm-proxy plugin check`: a verdict per check (PASS, FAIL, SKIP), and with
// --verbose the plugin's log lines and what each hook produced (Trace), and the helpers the checks
// share to run requests by the thousand and to show texts.
#pragma once

#include <spdlog/spdlog.h>

#include <functional>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <llm_proxy/abi.h>

namespace llmproxy {

struct Answer;
struct StreamEvent;

// What each hook produced, printed under the check that ran it (--verbose); a silent one prints
// nothing. Checks that repeat requests by the thousand, or on several threads, get a silent one.
class Trace {
  public:
    explicit Trace(std::ostream* out) : out_(out) {}
    static const Trace& silent();
    bool on() const { return out_ != nullptr; }
    void operator()(const std::string& line) const;

  private:
    std::ostream* out_;
};

// A check fails by throwing; this is the exception for failures the checker itself finds.
struct CheckFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Report {
  public:
    Report(std::ostream& out, bool verbose) : out_(out), verbose_(verbose) {}
    void pass(const std::string& what);
    void fail(const std::string& what, const std::string& why);
    void skip(const std::string& what, const std::string& why);
    // Runs body, which throws to fail (any exception); it gets a live trace under --verbose when
    // trace_hooks is set.
    void check(const std::string& what, const std::function<void(const Trace&)>& body,
               bool trace_hooks = true);
    // Prints the verdict; returns the exit status: 0 when nothing failed, else 1.
    int finish();

  private:
    std::ostream& out_;
    bool verbose_;
    int passed_ = 0;
    int failed_ = 0;
    int skipped_ = 0;
};

// Keeps log lines out of the output while it lives (a check repeating requests by the thousand).
class QuietLog {
  public:
    QuietLog() : level_(spdlog::get_level()) { spdlog::set_level(spdlog::level::off); }
    ~QuietLog() { spdlog::set_level(level_); }
    QuietLog(const QuietLog&) = delete;
    QuietLog& operator=(const QuietLog&) = delete;

  private:
    spdlog::level::level_enum level_;
};

// --verbose: while it lives, log lines (the plugin's, and the host's about it) go to out, at every
// level, where they happen among the checks' lines.
class LogToOutput {
  public:
    explicit LogToOutput(std::ostream& out);
    ~LogToOutput();
    LogToOutput(const LogToOutput&) = delete;
    LogToOutput& operator=(const LogToOutput&) = delete;

  private:
    std::shared_ptr<spdlog::logger> previous_;
};

// Runs request(i) 1,000 times on four threads, log lines muted; throws CheckFailure naming how
// many failed and the first reason.
void run_concurrently(const std::function<void(int)>& request);

// Texts for verdicts and traces: quoted and printable (logging/log_text.hpp), cut at 160 bytes.
std::string shown(std::string_view text);
const char* status_name(lp_status status);
std::string events_text(const std::vector<StreamEvent>& events, std::size_t from = 0);
std::string answer_text(const Answer& answer);

}  // namespace llmproxy
