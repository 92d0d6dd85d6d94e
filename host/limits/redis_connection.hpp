// One thread's connection to Redis, pipelined: on an event loop, every fiber's commands go out
// together in one write per round of the loop and their replies come back in order on the same
// connection, so concurrent requests share round trips. The host owns the socket (non-blocking,
// waited on through loop/wait.hpp); hiredis only parses the replies (RESP2).
//
// Failures are bounded: every command has a deadline (the connect included); when one passes or
// the connection breaks, every command waiting on it fails, the connection is closed, and for a
// backoff (100 ms doubling to 2 s) calls fail at once instead of waiting on a Redis that is down.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "limits/resp_command.hpp"
#include "loop/address_lookup.hpp"
#include "loop/event_loop.hpp"
#include "loop/wait.hpp"

struct redisReader;
struct redisReply;

namespace llmproxy {

// Where Redis is, and how to talk to it.
struct RedisSettings {
    std::string host;
    int port = 6379;
    std::string password;  // empty: no AUTH
    int timeout_ms = 250;  // for each command, from the call to its reply (a connect included)
    // Sent first on every new connection, each reply checked (SCRIPT LOAD of the scripts the
    // caller runs with EVALSHA); its commands, formatted by RespCommand.
    std::string on_connect;
    std::size_t on_connect_count = 0;
};

// Redis cannot be asked now: unreachable, too slow, or broken. what() says which, for logs.
class RedisUnavailable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Whether a Redis answers, shared by the connections of every thread to it: one that fails starts
// a backoff for all, one that gets a reply ends it for all, and an outage is logged once.
struct RedisHealth {
    std::atomic<std::int64_t> down_until_ms{0};  // steady clock; calls fail at once until then
    std::atomic<int> backoff_ms{0};
    std::atomic<bool> reported_down{false};  // the outage was logged; its end will be too
};

// A parsed reply, freed with it.
struct RedisReplyFree {
    void operator()(redisReply* reply) const;
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyFree>;

// The most elements a reply may have (one flat array): more, or an array inside another, and the
// connection is broken (a server that sends them is not answering our commands).
inline constexpr std::size_t kMaxReplyElements = 1000;

class RedisConnection {
  public:
    explicit RedisConnection(const RedisSettings& settings,
                             std::shared_ptr<RedisHealth> health = std::make_shared<RedisHealth>());
    ~RedisConnection();  // closes the socket; no fiber may be using the connection
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    // [on the connection's thread] Sends command (formatted by RespCommand) and returns its
    // reply, an error reply included. Throws RedisUnavailable. On a fiber only the fiber waits.
    RedisReply call(std::string_view command);
    // [on the connection's thread] Sends command without waiting for its reply, which is read and
    // dropped (an error reply logged). Throws RedisUnavailable when it cannot be sent.
    void send(std::string_view command);

  private:
    // A command whose reply is due; replies come in the order of the commands.
    struct Waiter {
        EventLoop::Fiber* fiber = nullptr;  // parked on it; null off a fiber
        RedisReply reply;
        std::string failure;  // why no reply comes, when done without one
        bool done = false;
    };
    struct Due {
        Waiter* waiter;  // null: nobody waits (send(), and the on-connect commands)
        std::int64_t deadline_ms;
    };

    // Queues command for the next write; throws RedisUnavailable during a backoff.
    void queue(std::string_view command, Waiter* waiter);
    // Whether Redis has closed the (idle) connection.
    bool peer_closed();
    // On a fiber: starts the fiber that writes and reads, or wakes it to write.
    void start_io();
    // Writes and reads until nothing is due (the fiber's life), or off a fiber until waiter is
    // done (null: until everything queued is written).
    void pump(Waiter* until);
    // One step: connects when needed, writes what it can, reads and hands out replies, waiting
    // for the socket when neither moved. A failure ends in fail_all().
    void step();
    void connect(std::int64_t deadline_ms);
    bool write_some();
    bool read_some();
    void take_replies();
    // Every due command fails with why; the connection closes. For an outage (not the loop
    // stopping), calls then fail until the backoff ends, and the outage is logged once.
    void fail_all(const std::string& why, bool outage = true);
    void close();

    RedisSettings settings_;
    std::string address_;                    // host:port, for messages
    std::unique_ptr<AddressLookup> lookup_;  // of the host, while one is under way
    int fd_ = -1;
    SocketWait socket_;
    std::unique_ptr<redisReader, void (*)(redisReader*)> reader_;
    std::size_t reply_bytes_ = 0;  // fed to the reader since its last whole reply
    std::string out_;              // queued, not yet written
    std::size_t out_sent_ = 0;     // of out_
    std::deque<Due> due_;
    bool io_running_ = false;               // a fiber of this thread's loop runs pump()
    EventLoop::Fiber* io_fiber_ = nullptr;  // that fiber, once it has started
    bool connecting_ = false;               // it waits for a connect: not to be woken
    std::shared_ptr<RedisHealth> health_;
    std::string last_failure_;  // of this connection, for the messages of calls during a backoff
};

}  // namespace llmproxy
