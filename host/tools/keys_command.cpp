#include "tools/keys_command.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "access/key_file.hpp"
#include "access/key_secret.hpp"
#include "config/config.hpp"
#include "json/json_fields.hpp"
#include "logging/log_text.hpp"
#include "tools/key_usage.hpp"

namespace llmproxy {

const char* const kKeysUsage =
    R"(usage: llm-proxy keys create ID (--config FILE | --keys-file FILE) [--expires WHEN]
                              [--route PREFIX]... [--model PATTERN]... [--metadata NAME=VALUE]...
                              [--requests-per-minute N] [--tokens-per-minute N]
                              [--concurrent-requests N]
       llm-proxy keys list (--config FILE | --keys-file FILE) [--json]
       llm-proxy keys revoke ID (--config FILE | --keys-file FILE)
       llm-proxy keys usage [ID] --config FILE [--url URL] [--json]

Manages the client keys of [auth] keys_file (or the keys file named). A running llm-proxy
applies changes on its next reload (SIGHUP, systemctl reload llm-proxy).

  create ID          makes a key with this id (letters, digits, '_', '.', '-'; up to 64) and
                     prints its secret once, alone on stdout; only its SHA-256 hash is kept
  list               every key: id, hint, state (active, expired, revoked), expiry, routes,
                     models (--json: as a JSON array)
  revoke ID          refuses the key from now on; it stays listed
  usage [ID]         where each key (or ID), route and llm stands against its limits and
                     budgets, asked of the running llm-proxy (GET /admin/usage, with the admin
                     key from the variable [auth] admin_key_env names; --url: another address)
  --expires WHEN     a date or date-time (2027-01-01, 2027-01-01T12:00:00Z) or a time from now
                     (30d, 12h, 90m)
  --route PREFIX     the key may use only these routes (their path_prefix); repeatable
  --model PATTERN    the key may ask only for these models ('*' matches any run); repeatable
  --metadata N=V     a string processors see with the key's requests; repeatable
  --requests-per-minute N, --tokens-per-minute N, --concurrent-requests N
                     the key's rate limits (README: Rate limits)
  --tokens-per-day N, --tokens-per-month N, --cost-per-day USD, --cost-per-month USD
                     the key's budgets, in the UTC calendar (README: Budgets)
)";

namespace {

// The limit an option such as --tokens-per-day sets (its name in files, dashed), or null.
const LimitField* limit_field(std::string_view option) {
    for (const LimitField& field : kLimitFields) {
        std::string dashed = "--" + std::string(field.name);
        std::replace(dashed.begin(), dashed.end(), '_', '-');
        if (option == dashed)
            return &field;
    }
    return nullptr;
}

struct KeysOptions {
    std::string action;
    std::string id;
    std::string config_file, keys_file;
    std::optional<std::string> expires;
    std::vector<std::string> routes, models, metadata;
    std::vector<std::pair<std::string, std::string>> limits;  // option, value
    bool json = false;
    std::string url;  // usage: the llm-proxy asked
};

class UsageError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

KeysOptions parse_options(const std::vector<std::string>& args) {
    if (args.empty())
        throw UsageError("keys needs an action: create, list, revoke or usage");
    KeysOptions options;
    options.action = args[0];
    const bool usage = options.action == "usage";
    if (options.action != "create" && options.action != "list" && options.action != "revoke" &&
        !usage)
        throw UsageError("unknown keys action '" + options.action + "'");
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& arg = args[i];
        const bool has_value = i + 1 < args.size();
        if (arg == "--config" && has_value)
            options.config_file = args[++i];
        else if (arg == "--keys-file" && has_value)
            options.keys_file = args[++i];
        else if (arg == "--expires" && has_value && options.action == "create")
            options.expires = args[++i];
        else if (arg == "--route" && has_value && options.action == "create")
            options.routes.push_back(args[++i]);
        else if (arg == "--model" && has_value && options.action == "create")
            options.models.push_back(args[++i]);
        else if (arg == "--metadata" && has_value && options.action == "create")
            options.metadata.push_back(args[++i]);
        else if (limit_field(arg) && has_value && options.action == "create")
            options.limits.emplace_back(arg, args[++i]);
        else if (arg == "--json" && (options.action == "list" || usage))
            options.json = true;
        else if (arg == "--url" && has_value && usage)
            options.url = args[++i];
        else if (options.id.empty() && options.action != "list" && arg.rfind("--", 0) != 0)
            options.id = arg;
        else
            throw UsageError("unknown or incomplete argument '" + arg + "'");
    }
    if (options.action != "list" && !usage && options.id.empty())
        throw UsageError("keys " + options.action + " needs the key's ID");
    if (usage && options.config_file.empty())
        throw UsageError("keys usage needs --config FILE (its [server] and [auth] admin_key_env)");
    if (options.config_file.empty() == options.keys_file.empty())
        throw UsageError("give either --config FILE or --keys-file FILE");
    return options;
}

// The keys file the options name: given, or the config's [auth] keys_file.
std::string keys_file_of(const KeysOptions& options) {
    if (!options.keys_file.empty())
        return options.keys_file;
    const Config config = load_config(options.config_file);
    if (config.auth.keys_file.empty())
        throw std::runtime_error(options.config_file +
                                 " has no [auth] keys_file: add one, e.g. [auth] keys_file = "
                                 "\"keys.toml\" (relative to the config file)");
    return config.auth.keys_file;
}

// "30d", "12h", "90m" from now, or a date or date-time.
std::int64_t expiry_of(const std::string& text, std::int64_t now) {
    if (text.size() >= 2) {
        const char unit = text.back();
        const std::int64_t seconds = unit == 'd'   ? 86400
                                     : unit == 'h' ? 3600
                                     : unit == 'm' ? 60
                                                   : 0;
        std::int64_t count = 0;
        const char* end = text.data() + text.size() - 1;
        if (seconds && std::from_chars(text.data(), end, count).ptr == end && count > 0 &&
            count <= 36500LL * 86400 / seconds)
            return now + count * seconds;
    }
    if (auto when = parse_rfc3339(text))
        return *when;
    throw UsageError(
        "--expires takes a date (2027-01-01), a date-time (2027-01-01T12:00:00Z) or "
        "a time from now (30d, 12h, 90m), not '" +
        text + "'");
}

ClientKey& find_key(std::vector<ClientKey>& keys, const std::string& id, const std::string& file) {
    auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.id == id; });
    if (it == keys.end())
        throw std::runtime_error(file + " has no key '" + id + "'");
    return *it;
}

std::string state_of(const ClientKey& key, std::int64_t now) {
    if (key.revoked && *key.revoked <= now)
        return "revoked";
    if (key.expires && *key.expires <= now)
        return "expired";
    return "active";
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items)
        out += (out.empty() ? "" : ",") + item;
    return out.empty() ? "*" : out;
}

void list_keys(const std::vector<ClientKey>& keys, bool json, std::int64_t now, std::ostream& out) {
    if (!json) {
        out << "ID\tHINT\tSTATE\tCREATED\tEXPIRES\tROUTES\tMODELS\n";
        // Text from the file is shown escaped: a hand-edited hint cannot drive the terminal.
        for (const ClientKey& key : keys)
            out << key.id << '\t' << (key.hint.empty() ? "-" : printable(key.hint, 64)) << '\t'
                << state_of(key, now) << '\t' << (key.created ? rfc3339_utc(key.created) : "-")
                << '\t' << (key.expires ? rfc3339_utc(*key.expires) : "never") << '\t'
                << printable(joined(key.routes), 1024) << '\t'
                << printable(joined(key.models), 1024) << '\n';
        return;
    }
    std::string text = "[";
    for (const ClientKey& key : keys) {
        if (text.size() > 1)
            text += ',';
        auto optional_time = [](const std::optional<std::int64_t>& t) {
            return t ? json_fields::quote(rfc3339_utc(*t)) : std::string("null");
        };
        auto strings = [](const std::vector<std::string>& items) {
            std::string array = "[";
            for (const auto& item : items)
                array += (array.size() > 1 ? "," : "") + json_fields::quote(item);
            return array + "]";
        };
        text +=
            "{\"id\":" + json_fields::quote(key.id) + ",\"hint\":" + json_fields::quote(key.hint) +
            ",\"state\":\"" + state_of(key, now) + "\",\"created\":" +
            optional_time(key.created ? std::optional(key.created) : std::nullopt) +
            ",\"expires\":" + optional_time(key.expires) +
            ",\"revoked\":" + optional_time(key.revoked) + ",\"routes\":" + strings(key.routes) +
            ",\"models\":" + strings(key.models) + ",\"metadata\":" + key.metadata_json + "}";
    }
    out << text << "]\n";
}

ClientKey new_key(const KeysOptions& options, std::int64_t now, std::string& secret) {
    if (!valid_key_id(options.id))
        throw UsageError("'" + options.id +
                         "' cannot be a key id: use 1 to 64 letters, digits, '_', '.' and '-'");
    ClientKey key;
    key.id = options.id;
    secret = new_key_secret();
    key.hash = key_hash(secret);
    key.hint = key_hint(secret);
    key.created = now;
    if (options.expires)
        key.expires = expiry_of(*options.expires, now);
    key.routes = options.routes;
    for (const auto& model : options.models)
        if (model.empty() || model.size() > kMaxModelName)
            throw UsageError("--model takes a model name or pattern of 1 to 256 characters");
    key.models = options.models;
    for (const auto& entry : options.metadata) {
        const auto equals = entry.find('=');
        if (equals == std::string::npos || equals == 0)
            throw UsageError("--metadata takes NAME=VALUE, not '" + entry + "'");
        key.metadata.emplace_back(entry.substr(0, equals), entry.substr(equals + 1));
    }
    for (const auto& [option, text] : options.limits) {
        const LimitField& field = *limit_field(option);
        if (field.dollars) {
            double dollars = 0;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), dollars);
            if (ec != std::errc() || end != text.data() + text.size() || !(dollars >= 1e-6) ||
                dollars > 1e9)
                throw UsageError(option + " takes an amount of dollars from 0.000001, not '" +
                                 text + "'");
            key.limits.*field.member = std::llround(dollars * 1e6);
            continue;
        }
        std::int64_t value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || value < 1 ||
            value > 1'000'000'000'000LL)
            throw UsageError(option + " takes a whole number from 1, not '" + text + "'");
        key.limits.*field.member = value;
    }
    return key;
}

}  // namespace

int run_keys_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                     std::int64_t now) {
    try {
        const KeysOptions options = parse_options(args);
        if (options.action == "usage")
            return print_key_usage(load_config(options.config_file), options.url,
                                   options.id.empty() ? std::nullopt : std::optional(options.id),
                                   options.json, out, err);
        const std::string file = keys_file_of(options);
        // A new key is made (its options checked) before anything is locked or written.
        std::string secret;
        std::optional<ClientKey> made;
        if (options.action == "create")
            made = new_key(options, now, secret);
        std::optional<KeyFileLock> lock;  // a change reads and writes the file in one turn
        if (options.action != "list")
            lock.emplace(file);
        std::vector<ClientKey> keys;
        if (options.action != "create" || std::filesystem::exists(file))
            keys = load_key_file(file);
        if (options.action == "list") {
            list_keys(keys, options.json, now, out);
            return 0;
        }
        if (options.action == "revoke") {
            ClientKey& key = find_key(keys, options.id, file);
            if (!key.revoked || *key.revoked > now)
                key.revoked = now;
            save_key_file(file, keys);
            err << "llm-proxy: key '" << options.id << "' is revoked in " << file
                << "; a running llm-proxy refuses it after its next reload (SIGHUP)\n";
            return 0;
        }
        if (std::any_of(keys.begin(), keys.end(),
                        [&](const auto& k) { return k.id == options.id; }))
            throw std::runtime_error(file + " already has a key '" + options.id + "'");
        keys.push_back(std::move(*made));
        // Checked as a running llm-proxy will read it (metadata limits, say) before it is written.
        parse_key_file(key_file_text(keys), file);
        save_key_file(file, keys);
        out << secret << '\n';
        err << "llm-proxy: key '" << options.id << "' added to " << file
            << ". Its secret (above) is shown this once; a running llm-proxy accepts it after "
               "its next reload (SIGHUP)\n";
        return 0;
    } catch (const UsageError& e) {
        err << "llm-proxy: " << e.what() << "\n\n" << kKeysUsage;
        return 2;
    } catch (const ConfigError& e) {
        err << "llm-proxy: " << e.what();
        return 1;
    } catch (const std::exception& e) {
        err << "llm-proxy: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace llmproxy
