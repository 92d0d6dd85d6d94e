// The memory that all client connections together may hold in request bodies still arriving.
// Each connection takes from the budget as its body's bytes arrive (never for what a
// Content-Length merely announces) and gives it back once the body is read or abandoned, so a
// crowd of slow uploads cannot exhaust memory either.
#pragma once

#include <atomic>
#include <cstddef>

namespace llmproxy {

class BodyBudget {
  public:
    explicit BodyBudget(std::size_t limit) : limit_(limit) {}

    std::size_t limit() const { return limit_; }
    // [thread-safe] Takes n bytes; false, taking nothing, when that would pass the limit.
    bool take(std::size_t n) {
        if (held_.fetch_add(n, std::memory_order_relaxed) + n <= limit_)
            return true;
        held_.fetch_sub(n, std::memory_order_relaxed);
        return false;
    }
    // [thread-safe] Returns n bytes taken before.
    void give_back(std::size_t n) { held_.fetch_sub(n, std::memory_order_relaxed); }
    std::size_t held() const { return held_.load(std::memory_order_relaxed); }

  private:
    const std::size_t limit_;
    std::atomic<std::size_t> held_{0};
};

}  // namespace llmproxy
