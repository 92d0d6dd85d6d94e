#include "limits/redis_connection.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>

#include "logging/log_text.hpp"

namespace llmproxy {

namespace {

constexpr int kFirstBackoffMs = 100;
constexpr int kLongestBackoffMs = 2000;
// Our replies are a few integers; a reply this long is not one of them, and reading on would let
// a broken or hostile server make us hold memory it has not earned.
constexpr std::size_t kMaxReplyBytes = 64 * 1024;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string errno_text(int error) {
    return std::strerror(error);
}

// hiredis 0.14 allocates an array's element pointers as soon as it reads the array's header, so
// "*2147483647" would ask for 16 GB, and nested headers of a few bytes each for far more memory
// than the bytes received. Our replies are one flat array at most: an array inside another, or
// longer than kMaxReplyElements, is refused (hiredis then reports it as out of memory).
void* (*hiredis_create_array)(const redisReadTask*, int) = nullptr;

void* create_bounded_array(const redisReadTask* task, int elements) {
    // hiredis passes only counts from 0 to INT_MAX here (-1 is a nil, beyond is its error).
    if (task->parent != nullptr || static_cast<std::size_t>(elements) > kMaxReplyElements)
        return nullptr;
    return hiredis_create_array(task, elements);
}

// A reader with hiredis's own reply objects, arrays bounded.
redisReader* make_reader() {
    static redisReplyObjectFunctions functions = [] {
        redisReader* plain = redisReaderCreate();
        if (!plain)
            throw std::bad_alloc();
        redisReplyObjectFunctions own = *plain->fn;
        redisReaderFree(plain);
        hiredis_create_array = own.createArray;
        own.createArray = create_bounded_array;
        return own;
    }();
    return redisReaderCreateWithFunctions(&functions);
}

}  // namespace

void RedisReplyFree::operator()(redisReply* reply) const {
    freeReplyObject(reply);
}

RedisConnection::RedisConnection(const RedisSettings& settings, std::shared_ptr<RedisHealth> health)
    : settings_(settings),
      address_(settings.host.find(':') == std::string::npos
                   ? fmt::format("{}:{}", settings.host, settings.port)
                   : fmt::format("[{}]:{}", settings.host, settings.port)),
      reader_(nullptr, redisReaderFree),
      health_(std::move(health)) {}

RedisConnection::~RedisConnection() {
    close();
}

RedisReply RedisConnection::call(std::string_view command) {
    Waiter waiter;
    EventLoop* loop = EventLoop::current();
    if (loop)
        waiter.fiber = loop->running_fiber();
    queue(command, &waiter);
    if (loop) {
        start_io();
        while (!waiter.done)
            loop->park(-1);  // the I/O fiber ends every wait by its deadline
    } else {
        pump(&waiter);
    }
    if (!waiter.reply)
        throw RedisUnavailable(waiter.failure);
    return std::move(waiter.reply);
}

void RedisConnection::send(std::string_view command) {
    queue(command, nullptr);
    if (EventLoop::current())
        start_io();
    else
        pump(nullptr);
}

void RedisConnection::queue(std::string_view command, Waiter* waiter) {
    const std::int64_t now = now_ms();
    if (const std::int64_t until = health_->down_until_ms; now < until)
        throw RedisUnavailable(fmt::format("Redis at {} is unavailable ({}); next try in {} ms",
                                           address_, last_failure_, until - now));
    // An idle connection Redis has closed (a restart) is replaced before it carries a command:
    // found out later, the command would fail, and Redis might have run it.
    if (due_.empty() && fd_ >= 0 && peer_closed())
        close();
    out_ += command;
    due_.push_back({waiter, now + settings_.timeout_ms});
}

bool RedisConnection::peer_closed() {
    if (const auto kept = socket_.kept_events())  // on this loop: known without a system call
        return (*kept & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    char byte;
    const ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

void RedisConnection::start_io() {
    EventLoop* loop = EventLoop::current();
    if (io_running_) {
        // It may be waiting for replies: at the loop's next round it writes what came meanwhile,
        // every fiber's commands of this round in one write. A connect is not interrupted.
        if (io_fiber_ && !connecting_)
            loop->wake_up(io_fiber_);
        return;
    }
    io_running_ = loop->spawn([this, loop] {
        io_fiber_ = loop->running_fiber();
        pump(nullptr);  // never throws: step() fails what it cannot do
        io_fiber_ = nullptr;
        io_running_ = false;
    });
    if (!io_running_)
        fail_all("the server is stopping", false);
}

void RedisConnection::pump(Waiter* until) {
    const bool io_fiber = EventLoop::current() != nullptr;
    while (true) {
        if (until ? until->done : io_fiber ? due_.empty() && out_.empty() : out_.empty())
            return;
        step();
    }
}

void RedisConnection::step() {
    try {
        if (fd_ < 0)
            connect(due_.empty() ? now_ms() + settings_.timeout_ms : due_.front().deadline_ms);
        const bool wrote = write_some();
        const bool read = read_some();
        if (wrote || read || (due_.empty() && out_.empty()))
            return;
        const std::int64_t deadline =
            due_.empty() ? now_ms() + settings_.timeout_ms : due_.front().deadline_ms;
        const std::int64_t left = deadline - now_ms();
        const std::uint32_t events = EPOLLIN | (out_.empty() ? 0u : std::uint32_t{EPOLLOUT});
        if (left <= 0 || !socket_.wait(events, static_cast<int>(left)))
            throw RedisUnavailable(fmt::format("no reply from Redis at {} within {} ms", address_,
                                               settings_.timeout_ms));
    } catch (const std::exception& e) {  // RedisUnavailable, or out of memory
        fail_all(e.what());
    }
}

void RedisConnection::connect(std::int64_t deadline_ms) {
    // One lookup at a time: a connect that gave up on a slow one waits for it again.
    if (!lookup_)
        lookup_ = std::make_unique<AddressLookup>(settings_.host, settings_.port);
    const std::int64_t lookup_left = deadline_ms - now_ms();
    connecting_ = true;
    const bool resolved = lookup_left > 0 && lookup_->wait(static_cast<int>(lookup_left));
    connecting_ = false;
    if (!resolved)
        throw RedisUnavailable(
            fmt::format("cannot resolve {} within {} ms", settings_.host, settings_.timeout_ms));
    const std::unique_ptr<AddressLookup> lookup = std::move(lookup_);
    if (lookup->error() != 0)
        throw RedisUnavailable(
            fmt::format("cannot resolve {}: {}", settings_.host, ::gai_strerror(lookup->error())));
    const addrinfo* found = lookup->addresses();
    const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw RedisUnavailable("cannot make a socket: " + errno_text(errno));
    fd_ = fd;
    socket_.reset(fd);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS)
        throw RedisUnavailable(
            fmt::format("cannot connect to Redis at {}: {}", address_, errno_text(errno)));
    connecting_ = true;
    const std::int64_t left = deadline_ms - now_ms();
    const bool ready = left > 0 && socket_.wait(EPOLLOUT, static_cast<int>(left));
    connecting_ = false;
    int error = 0;
    socklen_t size = sizeof error;
    if (!ready)
        throw RedisUnavailable(fmt::format("cannot connect to Redis at {} within {} ms", address_,
                                           settings_.timeout_ms));
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0)
        throw RedisUnavailable(fmt::format("cannot connect to Redis at {}: {}", address_,
                                           errno_text(error ? error : errno)));
    reader_.reset(make_reader());
    if (!reader_)
        throw RedisUnavailable("out of memory for a Redis reply reader");
    reply_bytes_ = 0;
    // The connection's own commands go first, their replies checked by nobody but the log,
    // within the deadline of the first command waiting (so that they add no time to it).
    out_.insert(0, settings_.on_connect);
    const std::int64_t deadline = due_.empty() ? deadline_ms : due_.front().deadline_ms;
    for (std::size_t i = 0; i < settings_.on_connect_count; ++i)
        due_.push_front({nullptr, deadline});
}

bool RedisConnection::write_some() {
    if (out_.empty())
        return false;
    const ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return false;
        throw RedisUnavailable(
            fmt::format("cannot write to Redis at {}: {}", address_, errno_text(errno)));
    }
    out_sent_ += static_cast<std::size_t>(n);
    if (out_sent_ == out_.size()) {
        out_.clear();
        out_sent_ = 0;
    }
    return n > 0;
}

bool RedisConnection::read_some() {
    char buffer[16 * 1024];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n == 0)
        throw RedisUnavailable(fmt::format("Redis at {} closed the connection", address_));
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            socket_.drained();
            return false;
        }
        throw RedisUnavailable(
            fmt::format("cannot read from Redis at {}: {}", address_, errno_text(errno)));
    }
    reply_bytes_ += static_cast<std::size_t>(n);
    if (reply_bytes_ > kMaxReplyBytes)
        throw RedisUnavailable(
            fmt::format("Redis at {} sent a reply longer than {} bytes", address_, kMaxReplyBytes));
    if (redisReaderFeed(reader_.get(), buffer, static_cast<std::size_t>(n)) != REDIS_OK)
        throw RedisUnavailable(fmt::format("cannot read Redis's reply: {}", reader_->errstr));
    take_replies();
    if (static_cast<std::size_t>(n) < sizeof buffer)
        socket_.drained();
    return true;
}

void RedisConnection::take_replies() {
    while (true) {
        void* parsed = nullptr;
        if (redisReaderGetReply(reader_.get(), &parsed) != REDIS_OK)
            throw RedisUnavailable(
                reader_->err == REDIS_ERR_OOM
                    ? fmt::format("Redis at {} sent a reply unlike llm-proxy's: an array inside "
                                  "another, or of more than {} elements (or memory ran out)",
                                  address_, kMaxReplyElements)
                    : fmt::format("Redis at {} sent an unreadable reply: {}", address_,
                                  reader_->errstr));
        if (!parsed)
            return;
        RedisReply reply(static_cast<redisReply*>(parsed));
        reply_bytes_ = 0;
        if (due_.empty())
            throw RedisUnavailable(
                fmt::format("Redis at {} sent a reply nobody asked for", address_));
        const Due due = due_.front();
        due_.pop_front();
        if (health_->backoff_ms.exchange(0) != 0) {
            health_->down_until_ms = 0;
            if (health_->reported_down.exchange(false))
                spdlog::info("limits: Redis at {} answers again", address_);
        }
        if (due.waiter) {
            due.waiter->reply = std::move(reply);
            due.waiter->done = true;
            if (due.waiter->fiber)
                EventLoop::current()->wake_up(due.waiter->fiber);
        } else if (reply->type == REDIS_REPLY_ERROR) {
            spdlog::warn("limits: Redis at {} refused a command: {}", address_,
                         printable(std::string_view(reply->str, reply->len)));
        }
    }
}

void RedisConnection::fail_all(const std::string& why, bool outage) {
    close();
    for (const Due& due : due_) {
        if (!due.waiter)
            continue;
        due.waiter->failure = why;
        due.waiter->done = true;
        if (due.waiter->fiber)
            EventLoop::current()->wake_up(due.waiter->fiber);
    }
    due_.clear();
    out_.clear();
    out_sent_ = 0;
    if (!outage)
        return;
    // Threads failing at once may each double it: the backoff only grows faster.
    const int last = health_->backoff_ms;
    const int backoff = last ? std::min(last * 2, kLongestBackoffMs) : kFirstBackoffMs;
    health_->backoff_ms = backoff;
    health_->down_until_ms = now_ms() + backoff;
    last_failure_ = why;
    if (!health_->reported_down.exchange(true))
        spdlog::warn("limits: {}; the limits' counters cannot be reached (next try in {} ms)", why,
                     backoff);
    else
        spdlog::debug("limits: {}; next try in {} ms", why, backoff);
}

void RedisConnection::close() {
    socket_.release();
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
    socket_.reset(-1);
    reader_.reset();
}

}  // namespace llmproxy
