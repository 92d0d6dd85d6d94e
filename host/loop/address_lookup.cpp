#include "loop/address_lookup.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <system_error>
#include <thread>

namespace llmproxy {

// Shared by the caller and the lookup's thread: whichever lets go last frees it.
struct AddressLookup::State {
    int ended_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);  // readable once the lookup ends
    std::atomic<bool> ended{false};
    int error = 0;
    addrinfo* found = nullptr;

    ~State() {
        if (found)
            ::freeaddrinfo(found);
        if (ended_fd >= 0)
            ::close(ended_fd);
    }
};

AddressLookup::AddressLookup(const std::string& host, int port)
    : AddressLookup([host, port](addrinfo** found) {
          addrinfo hints{};
          hints.ai_family = AF_UNSPEC;
          hints.ai_socktype = SOCK_STREAM;
          return ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, found);
      }) {}

AddressLookup::AddressLookup(Resolve resolve) : state_(std::make_shared<State>()) {
    if (state_->ended_fd < 0)
        throw std::system_error(errno, std::generic_category(), "eventfd");
    ended_.reset(state_->ended_fd);
    std::thread([state = state_, resolve = std::move(resolve)] {
        state->error = resolve(&state->found);
        state->ended.store(true, std::memory_order_release);
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t written = ::write(state->ended_fd, &one, sizeof one);
    }).detach();
}

bool AddressLookup::wait(int timeout_ms) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!state_->ended.load(std::memory_order_acquire)) {
        int left = -1;
        if (timeout_ms >= 0) {
            left = static_cast<int>(
                std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count());
            if (left <= 0)
                return false;
        }
        ended_.wait(EPOLLIN, left);
    }
    return true;
}

int AddressLookup::error() const {
    return state_->error;
}

const addrinfo* AddressLookup::addresses() const {
    return state_->error == 0 ? state_->found : nullptr;
}

}  // namespace llmproxy
