// Chooses the route for a request path: the longest path_prefix that matches wins. A prefix
// matches the path itself, or the path continuing after a '/' (so "/v1/chat" matches
// "/v1/chat/completions" but not "/v1/chatter"); a prefix ending in '/' matches anything below it.
#pragma once

#include <string_view>
#include <vector>

namespace llmproxy {

template <typename Route>
class Router {
  public:
    // prefix_of(route) gives the route's path_prefix. Routes must outlive the router.
    template <typename PrefixOf>
    Router(const std::vector<Route>& routes, PrefixOf prefix_of) {
        for (const auto& r : routes)
            entries_.push_back({prefix_of(r), &r});
    }

    // The best route for path (without query string), or nullptr.
    const Route* match(std::string_view path) const {
        const Entry* best = nullptr;
        for (const auto& e : entries_) {
            if (!prefix_matches(e.prefix, path))
                continue;
            if (!best || e.prefix.size() > best->prefix.size())
                best = &e;
        }
        return best ? best->route : nullptr;
    }

    static bool prefix_matches(std::string_view prefix, std::string_view path) {
        if (path.substr(0, prefix.size()) != prefix)
            return false;
        return path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/';
    }

  private:
    struct Entry {
        std::string_view prefix;
        const Route* route;
    };
    std::vector<Entry> entries_;
};

}  // namespace llmproxy
