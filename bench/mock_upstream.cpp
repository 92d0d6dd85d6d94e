// A fast mock OpenAI upstream for benchmarks: one thread, epoll, HTTP/1.1 keep-alive, on
// 127.0.0.1 only. A POST answers a fixed chat completion; with "stream":true in the body it
// streams N chunk events `gap` milliseconds apart, then a finish chunk and [DONE]. Thousands of
// streams are served at once (timers in a heap, no thread per connection). With --format anthropic
// it answers as Anthropic's Messages API: a fixed message, or a stream of N text deltas between the
// opening (message_start, content_block_start) and closing (content_block_stop, message_delta,
// message_stop) events. --format openai-role opens OpenAI streams as OpenAI does, with a chunk
// that has the role and no content.
//
//   mock_upstream --port P [--events N] [--gap-ms G] [--format openai|openai-role|anthropic]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

const std::string kCompletion =
    R"({"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"Benchmarks measure; they do not guess."},"finish_reason":"stop"}],"usage":{"prompt_tokens":500,"completion_tokens":8,"total_tokens":508}})";

const std::string kChunk =
    R"({"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","choices":[{"index":0,"delta":{"content":"token "},"finish_reason":null}]})";

// What one format answers: a whole answer, and a stream's events (already SSE-framed).
struct Format {
    std::string whole;
    std::string opening;  // before the first of the N events
    std::string event;
    std::string closing;  // after the last
};

const std::string kFinishChunk =
    R"({"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})";

const Format kOpenAi{kCompletion, "", "data: " + kChunk + "\n\n",
                     "data: " + kFinishChunk + "\n\ndata: [DONE]\n\n"};

const Format kOpenAiRole{
    kCompletion,
    "data: "
    R"({"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]})"
    "\n\n",
    kOpenAi.event, kOpenAi.closing};

const Format kAnthropic{
    R"({"id":"msg_bench","type":"message","role":"assistant","model":"bench","content":[{"type":"text","text":"Benchmarks measure; they do not guess."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":500,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":8}})",
    "event: message_start\ndata: "
    R"({"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"bench","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":500,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}})"
    "\n\nevent: content_block_start\ndata: "
    R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
    "\n\n",
    "event: content_block_delta\ndata: "
    R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"token "}})"
    "\n\n",
    "event: content_block_stop\ndata: "
    R"({"type":"content_block_stop","index":0})"
    "\n\nevent: message_delta\ndata: "
    R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":20}})"
    "\n\nevent: message_stop\ndata: "
    R"({"type":"message_stop"})"
    "\n\n"};

const Format* format = &kOpenAi;

struct Connection {
    std::string in;
    std::string out;
    int events_left = 0;  // > 0 while a stream is in progress
};

struct Timer {
    Clock::time_point due;
    int fd;
    bool operator>(const Timer& other) const { return due > other.due; }
};

int events_per_stream = 10;
int gap_ms = 0;
int epoll_fd = -1;
std::unordered_map<int, Connection> connections;
std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers;

std::string chunked(const std::string& data) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
}

void close_connection(int fd) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    connections.erase(fd);
}

// Writes what is queued; false when the connection died.
bool flush(int fd, Connection& c) {
    while (!c.out.empty()) {
        ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN;  // the kernel buffer is full: a later event writes on
        c.out.erase(0, static_cast<std::size_t>(n));
    }
    return true;
}

void send_event(int fd, Connection& c) {
    if (c.events_left > 0) {
        c.out += chunked(format->event);
        if (--c.events_left == 0)
            c.out += chunked(format->closing) + "0\r\n\r\n";
    }
    if (!flush(fd, c))
        return close_connection(fd);
    if (c.events_left > 0)
        timers.push({Clock::now() + std::chrono::milliseconds(gap_ms), fd});
}

// Answers every complete request in c.in.
void serve(int fd, Connection& c) {
    while (c.events_left == 0) {
        std::size_t head_end = c.in.find("\r\n\r\n");
        if (head_end == std::string::npos)
            return;
        std::size_t length = 0;
        std::size_t at = c.in.find("Content-Length:");
        if (at == std::string::npos || at > head_end)
            at = c.in.find("content-length:");
        if (at != std::string::npos && at < head_end)
            length = std::strtoul(c.in.c_str() + at + 15, nullptr, 10);
        if (c.in.size() < head_end + 4 + length)
            return;
        std::string body = c.in.substr(head_end + 4, length);
        c.in.erase(0, head_end + 4 + length);
        bool stream = body.find("\"stream\":true") != std::string::npos ||
                      body.find("\"stream\": true") != std::string::npos;
        if (stream) {
            c.out +=
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
                "chunked\r\n\r\n";
            c.events_left = events_per_stream;
            if (!format->opening.empty())
                c.out += chunked(format->opening);
            send_event(fd, c);
            return;
        }
        c.out += "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(format->whole.size()) + "\r\n\r\n" + format->whole;
    }
}

}  // namespace

int main(int argc, char** argv) {
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string arg = argv[i];
        if (arg == "--port")
            port = std::atoi(argv[i + 1]);
        else if (arg == "--events")
            events_per_stream = std::atoi(argv[i + 1]);
        else if (arg == "--gap-ms")
            gap_ms = std::atoi(argv[i + 1]);
        else if (arg == "--format") {
            const std::string name = argv[i + 1];
            format = name == "anthropic"     ? &kAnthropic
                     : name == "openai-role" ? &kOpenAiRole
                                             : &kOpenAi;
        }
    }
    std::signal(SIGPIPE, SIG_IGN);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener, 4096) != 0) {
        std::perror("mock_upstream: bind");
        return 1;
    }
    socklen_t size = sizeof address;
    getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
    std::printf("mock upstream listening on 127.0.0.1:%d\n", ntohs(address.sin_port));
    std::fflush(stdout);

    epoll_fd = epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listener;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &ev);
    std::vector<epoll_event> events(1024);
    char buffer[65536];
    while (true) {
        int timeout = -1;
        if (!timers.empty()) {
            auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(timers.top().due -
                                                                              Clock::now());
            timeout = wait.count() < 0 ? 0 : static_cast<int>(wait.count());
        }
        int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout);
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                while (true) {
                    int client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
                    if (client < 0)
                        break;
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    epoll_event cev{};
                    cev.events = EPOLLIN | EPOLLRDHUP;
                    cev.data.fd = client;
                    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, client, &cev);
                    connections[client];
                }
                continue;
            }
            auto it = connections.find(fd);
            if (it == connections.end())
                continue;
            Connection& c = it->second;
            bool alive = true;
            while (true) {
                ssize_t got = recv(fd, buffer, sizeof buffer, 0);
                if (got > 0) {
                    c.in.append(buffer, static_cast<std::size_t>(got));
                    continue;
                }
                if (got == 0 || errno != EAGAIN)
                    alive = false;
                break;
            }
            if (!alive) {
                close_connection(fd);
                continue;
            }
            serve(fd, c);
            if (!flush(fd, c))
                close_connection(fd);
        }
        auto now = Clock::now();
        while (!timers.empty() && timers.top().due <= now) {
            int fd = timers.top().fd;
            timers.pop();
            auto it = connections.find(fd);
            if (it == connections.end())
                continue;
            send_event(fd, it->second);
            auto again = connections.find(fd);
            if (again != connections.end() && again->second.events_left == 0)
                serve(fd, again->second);
        }
    }
}
