// A DNS lookup (getaddrinfo) that its caller can stop waiting for. getaddrinfo blocks, for as
// long as the system's resolver takes (seconds when a name server does not answer), and cannot be
// interrupted; run_blocking() would hold its caller that long. Here the lookup runs on a thread
// of its own, and the caller waits for it with a deadline (on a fiber only the fiber waits). A
// lookup its caller stops waiting for still ends on its own thread, which then frees what it
// found: the caller may wait for it again later, or drop it.
#pragma once

#include <netdb.h>

#include <functional>
#include <memory>
#include <string>

#include "loop/wait.hpp"

namespace llmproxy {

class AddressLookup {
  public:
    // What looks up: getaddrinfo(), or a stand-in in tests. Returns getaddrinfo's code; found
    // (when 0) is freed with freeaddrinfo().
    using Resolve = std::function<int(addrinfo** found)>;

    // Starts looking up host:port (TCP, IPv4 or IPv6). Throws std::system_error when no thread
    // can be started.
    AddressLookup(const std::string& host, int port);
    explicit AddressLookup(Resolve resolve);
    AddressLookup(const AddressLookup&) = delete;
    AddressLookup& operator=(const AddressLookup&) = delete;

    // Waits until the lookup has ended, or timeout_ms has passed (negative: no limit). True when
    // it has ended.
    bool wait(int timeout_ms);
    // Once ended: getaddrinfo's code (0: found), and the addresses found (null unless 0), valid
    // while this lookup lives.
    int error() const;
    const addrinfo* addresses() const;

  private:
    struct State;
    std::shared_ptr<State> state_;
    // On the state's eventfd; declared after state_, so that it leaves the loop's epoll set
    // before the lookup's thread may close the eventfd.
    SocketWait ended_;
};

}  // namespace llmproxy
