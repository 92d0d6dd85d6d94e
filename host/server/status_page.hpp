// GET /status: a page for people (routes, llms and deployments with their health, request rate,
// latency and time-to-first-token percentiles, the last errors), plain HTML and JS read at start
// from a directory installed beside the executable; the page itself reads /healthz, /metrics and
// /status/errors. RecentErrors keeps what /status/errors shows.
#pragma once

#include <cstddef>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmproxy {

class StatusPage {
  public:
    struct Asset {
        std::string content_type;
        std::string body;
    };

    // Reads the page's files from the first of dirs that holds index.html; none: the page is
    // missing (found() false), and /status says where it was looked for.
    explicit StatusPage(const std::vector<std::filesystem::path>& dirs);

    bool found() const { return !assets_.empty(); }
    const std::string& looked_in() const { return looked_in_; }
    // The file for a request path under /status ("/status" and "/status/" are index.html).
    const Asset* find(std::string_view path) const;

  private:
    std::map<std::string, Asset, std::less<>> assets_;  // by request path
    std::string looked_in_;
};

// The last errors answered (status 400 and above, or a stream that failed after it started),
// newest first. [thread-safe]
class RecentErrors {
  public:
    static constexpr std::size_t kKept = 50;

    struct Entry {
        std::string time;  // UTC, ISO 8601
        std::string request_id;
        std::string method;
        std::string path;
        std::string route;
        int status = 0;
        std::string error;
    };

    void add(Entry entry);
    // {"errors":[{...}, ...]}
    std::string json() const;

  private:
    mutable std::mutex mutex_;
    std::deque<Entry> entries_;
};

}  // namespace llmproxy
