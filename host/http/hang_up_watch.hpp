// Cancels the request in progress on a client connection the moment its client goes away,
// whether the request is streaming or not, and also before the first upstream byte: a provider
// must not go on generating (and billing) for nobody. The connection's event loop notices: the
// client socket stays in its epoll set while the request's fiber waits on the upstream, so no
// thread of its own and no system call per request.
#pragma once

#include <memory>

#include "http/client_socket.hpp"
#include "loop/cancellation.hpp"
#include "loop/event_loop.hpp"

namespace llmproxy {

class HangUpWatch final : private HangUpListener {
  public:
    explicit HangUpWatch(ClientSocket& client) : client_(client) {}
    // Stops watching; must come before the client socket is released.
    ~HangUpWatch() { set(nullptr); }
    HangUpWatch(const HangUpWatch&) = delete;
    HangUpWatch& operator=(const HangUpWatch&) = delete;

    // [the connection's fiber] The request in progress on the connection; a hang-up cancels it
    // (at once if the client has already gone). nullptr: no request waits on an upstream.
    void set(std::shared_ptr<Cancellation> cancellation);

  private:
    void hung_up() override;

    ClientSocket& client_;
    std::shared_ptr<Cancellation> current_;
};

}  // namespace llmproxy
