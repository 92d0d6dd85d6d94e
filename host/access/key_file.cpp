#include "access/key_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "access/key_secret.hpp"
#include "config/table_reader.hpp"
#include "json/json_fields.hpp"

namespace llmproxy {

namespace {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The times a keys file may hold: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
constexpr std::int64_t kLastSecond = 253402300799;

// A TOML date-time (any offset; none means UTC) or date (its midnight UTC) as Unix seconds;
// nullopt for other values and for times outside 1970 to 9999.
std::optional<std::int64_t> unix_seconds(const toml::node& node) {
    std::int64_t seconds = 0;
    if (auto* date = node.as_date()) {
        const toml::date d = date->get();
        seconds = days_from_civil(d.year, d.month, d.day) * 86400;
    } else if (auto* date_time = node.as_date_time()) {
        const toml::date_time dt = date_time->get();
        seconds = days_from_civil(dt.date.year, dt.date.month, dt.date.day) * 86400 +
                  dt.time.hour * 3600 + dt.time.minute * 60 + dt.time.second;
        if (dt.offset)
            seconds -= dt.offset->minutes * 60;
    } else {
        return std::nullopt;
    }
    if (seconds < 0 || seconds > kLastSecond)
        return std::nullopt;
    return seconds;
}

// A TOML basic string: JSON's escapes are TOML's, and DEL, which TOML wants escaped too.
std::string toml_string(std::string_view text) {
    std::string quoted = json_fields::quote(text);
    for (std::size_t at = quoted.find('\x7f'); at != std::string::npos;
         at = quoted.find('\x7f', at))
        quoted.replace(at, 1, "\\u007f");
    return quoted;
}

bool quoted_key_needed(std::string_view key) {
    for (char c : key)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
            return true;
    return key.empty();
}

// A TOML key: bare when it can be, else quoted as a basic string (JSON's escapes are TOML's).
std::string toml_key(std::string_view key) {
    return quoted_key_needed(key) ? toml_string(key) : std::string(key);
}

std::string toml_strings(const std::vector<std::string>& values) {
    std::string out = "[";
    for (const auto& value : values)
        out += (out.size() > 1 ? ", " : "") + toml_string(value);
    return out + "]";
}

void read_time(TableReader& r, std::string_view key, std::optional<std::int64_t>& out) {
    const toml::node* node = r.get(key);
    if (!node)
        return;
    out = unix_seconds(*node);
    if (!out)
        r.problem(node, key,
                  "must be a date-time or date from 1970 to 9999, e.g. 2027-01-01T00:00:00Z or "
                  "2027-01-01 (UTC)");
}

std::string metadata_json(const std::vector<std::pair<std::string, std::string>>& metadata) {
    std::string out = "{";
    for (const auto& [name, value] : metadata) {
        if (out.size() > 1)
            out += ',';
        json_fields::append_quoted(out, name);
        out += ':';
        json_fields::append_quoted(out, value);
    }
    return out + "}";
}

ClientKey parse_key(const toml::table& table, const std::string& id, const std::string& file,
                    std::vector<ConfigProblem>& problems) {
    const std::string path = "keys." + id;
    TableReader r(table, path, file, problems);
    ClientKey key;
    key.id = id;
    key.limit_holder = "key:" + id;
    key.line = r.line();
    if (!valid_key_id(id))
        r.problem(nullptr, "", "key ids are 1 to 64 of letters, digits, '_', '.' and '-'");
    r.read("hash", key.hash, true);
    if (!key.hash.empty() && !is_key_hash(key.hash))
        r.problem(table.get("hash"), "hash",
                  "must be \"sha256:\" and 64 lower-case hex digits, as `llm-proxy keys create` "
                  "writes it (the secret itself is never stored)");
    r.read("hint", key.hint);
    std::optional<std::int64_t> created;
    read_time(r, "created", created);
    key.created = created.value_or(0);
    read_time(r, "expires", key.expires);
    read_time(r, "revoked", key.revoked);
    r.read("routes", key.routes);
    r.read("models", key.models);
    if (const toml::node* node = r.get("metadata")) {
        const toml::table* entries = node->as_table();
        bool ok = entries != nullptr && entries->size() <= kMaxKeyMetadata;
        if (entries)
            for (auto&& [name, value] : *entries) {
                const toml::value<std::string>* text = value.as_string();
                if (!text || name.str().empty() || name.str().size() > 64 ||
                    text->get().size() > 512)
                    ok = false;
                else
                    key.metadata.emplace_back(std::string(name.str()), text->get());
            }
        if (!ok)
            r.problem(node, "metadata",
                      "must be a table of at most 16 strings, e.g. { team = \"search\" }, with "
                      "names up to 64 and values up to 512 bytes");
    }
    key.metadata_json = metadata_json(key.metadata);
    r.read_limits("limits", key.limits);
    r.reject_unknown_keys();
    return key;
}

}  // namespace

bool valid_key_id(std::string_view id) {
    if (id.empty() || id.size() > 64)
        return false;
    for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
            return false;
    return true;
}

std::vector<ClientKey> parse_key_file(const std::string& text, const std::string& file) {
    toml::parse_result result = toml::parse(text, file);
    if (!result)
        throw ConfigError({{file, static_cast<int>(result.error().source().begin.line), "",
                            std::string(result.error().description())}});
    std::vector<ConfigProblem> problems;
    std::vector<ClientKey> keys;
    for (auto&& [section, node] : result.table()) {
        const toml::table* table = node.as_table();
        if (section.str() != "keys" || !table) {
            problems.push_back({file, static_cast<int>(node.source().begin.line),
                                std::string(section.str()),
                                "a keys file holds [keys.ID] tables only"});
            continue;
        }
        for (auto&& [id, entry] : *table) {
            if (const toml::table* key = entry.as_table())
                keys.push_back(parse_key(*key, std::string(id.str()), file, problems));
            else
                problems.push_back({file, static_cast<int>(entry.source().begin.line),
                                    "keys." + std::string(id.str()),
                                    "must be a table ([keys.ID])"});
        }
    }
    std::map<std::string_view, const ClientKey*> by_hash;
    for (const ClientKey& key : keys)
        if (auto [it, added] = by_hash.emplace(key.hash, &key); !added && !key.hash.empty())
            problems.push_back({file, key.line, "keys." + key.id + ".hash",
                                "is also the hash of [keys." + it->second->id + "]"});
    if (!problems.empty())
        throw ConfigError(std::move(problems));
    return keys;
}

std::vector<ClientKey> load_key_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ConfigError({{path, 0, "",
                            "cannot read the keys file (`llm-proxy keys create --keys-file " +
                                path + " ID` makes one)"}});
    std::ostringstream text;
    text << in.rdbuf();
    return parse_key_file(text.str(), path);
}

std::string key_file_text(const std::vector<ClientKey>& keys) {
    std::string out =
        "# llm-proxy's client keys, as hashes (the secrets are never stored). Written by "
        "`llm-proxy keys`,\n# which keeps every key and setting but not comments. "
        "A reload (SIGHUP) applies changes.\n";
    for (const ClientKey& key : keys) {
        out += "\n[keys." + toml_key(key.id) + "]\n";
        out += "hash = " + toml_string(key.hash) + "\n";
        if (!key.hint.empty())
            out += "hint = " + toml_string(key.hint) + "\n";
        if (key.created)
            out += "created = " + rfc3339_utc(key.created) + "\n";
        if (key.expires)
            out += "expires = " + rfc3339_utc(*key.expires) + "\n";
        if (key.revoked)
            out += "revoked = " + rfc3339_utc(*key.revoked) + "\n";
        if (!key.routes.empty())
            out += "routes = " + toml_strings(key.routes) + "\n";
        if (!key.models.empty())
            out += "models = " + toml_strings(key.models) + "\n";
        if (!key.metadata.empty()) {
            out += "metadata = { ";
            for (std::size_t i = 0; i < key.metadata.size(); ++i)
                out += (i ? ", " : "") + toml_key(key.metadata[i].first) + " = " +
                       toml_string(key.metadata[i].second);
            out += " }\n";
        }
        if (key.limits.any()) {
            std::string limits;
            for (const LimitField& field : kLimitFields)
                if (const std::int64_t value = key.limits.*field.member)
                    limits += (limits.empty() ? "" : ", ") + std::string(field.name) + " = " +
                              (field.dollars ? dollars_text(value) : std::to_string(value));
            out += "limits = { " + limits + " }\n";
        }
    }
    return out;
}

void save_key_file(const std::string& path, const std::vector<ClientKey>& keys) {
    const std::string text = key_file_text(keys);
    // A keys file reached through a symbolic link is replaced where it lives.
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::exists(path, ec)
                                             ? std::filesystem::canonical(path, ec)
                                             : std::filesystem::absolute(path, ec);
    if (ec)
        throw std::runtime_error("cannot find " + path + ": " + ec.message());
    struct stat old {};
    const bool existed = ::stat(target.c_str(), &old) == 0;
    // A name of its own in the same directory, made new (never an existing file or link).
    std::string temporary = target.string() + ".XXXXXX";
    const int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
    auto fail = [&](const std::string& what) {
        const std::string reason = std::strerror(errno);
        if (fd >= 0)
            ::close(fd);
        ::unlink(temporary.c_str());
        throw std::runtime_error(what + ": " + reason);
    };
    if (fd < 0)
        fail("cannot write beside " + target.string());
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail("cannot write " + temporary);
        written += static_cast<std::size_t>(n);
    }
    // mkostemp made it 0600; an existing file's mode and owner are kept.
    if (existed && (::fchmod(fd, old.st_mode & 07777) != 0 ||
                    (::fchown(fd, old.st_uid, old.st_gid) != 0 && errno != EPERM)))
        fail("cannot give " + temporary + " the mode and owner of " + target.string());
    if (::fsync(fd) != 0)
        fail("cannot write " + temporary);
    if (::rename(temporary.c_str(), target.c_str()) != 0)
        fail("cannot replace " + target.string());
    ::close(fd);
    // The rename itself survives a crash once the directory is written.
    if (const int dir = ::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

KeyFileLock::KeyFileLock(const std::string& path) {
    const std::string lock = path + ".lock";
    fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
        const std::string reason = std::strerror(errno);
        if (fd_ >= 0)
            ::close(fd_);
        throw std::runtime_error("cannot lock " + lock + ": " + reason);
    }
}

KeyFileLock::~KeyFileLock() {
    ::close(fd_);  // which unlocks
}

std::string rfc3339_utc(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[80];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    return text;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
    if (text.empty() || text.size() > 64 || text.find_first_of("\r\n=#[\"'") != text.npos)
        return std::nullopt;
    toml::parse_result result = toml::parse("t = " + std::string(text));
    if (!result)
        return std::nullopt;
    const toml::node* node = result.table().get("t");
    return node ? unix_seconds(*node) : std::nullopt;
}

}  // namespace llmproxy
