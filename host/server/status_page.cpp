#include "server/status_page.hpp"

#include <fstream>
#include <sstream>

#include "json/json_fields.hpp"

namespace llmproxy {

namespace {

constexpr std::size_t kMaxErrorText = 1024;
constexpr std::size_t kMaxPathText = 512;

std::optional<std::string> read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

StatusPage::StatusPage(const std::vector<std::filesystem::path>& dirs) {
    static const std::pair<const char*, const char*> kFiles[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"status.js", "text/javascript; charset=utf-8"},
        {"status.css", "text/css; charset=utf-8"}};
    for (const auto& dir : dirs) {
        looked_in_ += (looked_in_.empty() ? "" : ", ") + dir.string();
        if (!std::filesystem::exists(dir / "index.html"))
            continue;
        for (const auto& [name, type] : kFiles)
            if (auto body = read_file(dir / name))
                assets_["/status/" + std::string(name)] = {type, std::move(*body)};
        return;
    }
}

const StatusPage::Asset* StatusPage::find(std::string_view path) const {
    if (path == "/status" || path == "/status/")
        path = "/status/index.html";
    auto it = assets_.find(path);
    return it == assets_.end() ? nullptr : &it->second;
}

void RecentErrors::add(Entry entry) {
    entry.path = json_fields::utf8_prefix(entry.path, kMaxPathText);
    entry.error = json_fields::utf8_prefix(entry.error, kMaxErrorText);
    std::lock_guard lock(mutex_);
    entries_.push_front(std::move(entry));
    if (entries_.size() > kKept)
        entries_.pop_back();
}

std::string RecentErrors::json() const {
    std::lock_guard lock(mutex_);
    std::string out = R"({"errors":[)";
    bool first = true;
    for (const Entry& e : entries_) {
        out += first ? "{" : ",{";
        first = false;
        out += R"("time":)" + json_fields::quote(e.time);
        out += R"(,"request_id":)" + json_fields::quote(e.request_id);
        out += R"(,"method":)" + json_fields::quote(e.method);
        out += R"(,"path":)" + json_fields::quote(e.path);
        out += R"(,"route":)" + json_fields::quote(e.route);
        out += R"(,"status":)" + std::to_string(e.status);
        out += R"(,"error":)" + json_fields::quote(e.error) + "}";
    }
    out += "]}";
    return out;
}

}  // namespace llmproxy
