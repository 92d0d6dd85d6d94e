// Rate-limit counters in the process: exact for one llm-proxy, nothing to install. One lock
// guards them, held for a few map lookups per request.
#pragma once

#include <mutex>
#include <unordered_map>

#include "limits/limit_store.hpp"

namespace llmproxy {

class LocalLimitStore final : public LimitStore {
  public:
    LimitVerdict charge(std::span<const LimitCharge> charges) override;
    void correct(const LimitCharge& charge, std::int64_t delta, std::int64_t now_window) override;
    void release(const LimitCharge& charge) override;
    std::optional<std::vector<std::int64_t>> counts(std::span<const LimitCharge> charges) override;
    std::string where() const override { return "in the process"; }

  private:
    struct Counter {
        std::int64_t window = -1;  // of `count`, for windowed kinds
        std::int64_t count = 0;
    };
    // A counter's name: its holder and kind. Looked up by a borrowed holder, without a copy.
    struct Name {
        std::string holder;
        LimitKind kind;
    };
    struct NameView {
        std::string_view holder;
        LimitKind kind;
    };
    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(const NameView& name) const;
        std::size_t operator()(const Name& name) const {
            return (*this)(NameView{name.holder, name.kind});
        }
    };
    struct NameEqual {
        using is_transparent = void;
        template <typename A, typename B>
        bool operator()(const A& a, const B& b) const {
            return a.kind == b.kind && std::string_view(a.holder) == std::string_view(b.holder);
        }
    };

    // The charge's counter (made at its first use), as it stands in the charge's window: a
    // windowed one starts afresh in a new window.
    Counter& current(const LimitCharge& charge);
    // The charge's counter, or null when it was never charged.
    Counter* existing(const LimitCharge& charge);

    std::mutex mutex_;
    std::unordered_map<Name, Counter, NameHash, NameEqual> counters_;
};

}  // namespace llmproxy
