// A real redis-server (Debian's) for the tests of the Redis limit store: started on 127.0.0.1 on
// a free port, without persistence, and stopped with the test. Tests that need one fail (never
// skip) when redis-server cannot start: scripts/install-deps.sh --test installs it.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "eventually.hpp"
#include "limits/redis_connection.hpp"

class RedisServer {
  public:
    // extra: more of redis-server's options, e.g. {"--requirepass", "SECRET"}.
    explicit RedisServer(std::vector<std::string> extra = {})
        : port_(free_port()), extra_(std::move(extra)) {
        start();
    }
    ~RedisServer() { stop(); }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    int port() const { return port_; }
    llmproxy::RedisSettings settings() const {
        llmproxy::RedisSettings settings;
        settings.host = "127.0.0.1";
        settings.port = port_;
        settings.timeout_ms = 2000;  // generous: the sanitizers' builds are slow
        return settings;
    }

    // Starts it (again, on the same port) and waits until it answers.
    void start() {
        std::vector<std::string> words = {"redis-server",
                                          "--port",
                                          std::to_string(port_),
                                          "--bind",
                                          "127.0.0.1",
                                          "--save",
                                          "",
                                          "--appendonly",
                                          "no",
                                          "--dir",
                                          "/tmp",
                                          "--loglevel",
                                          "warning"};
        words.insert(words.end(), extra_.begin(), extra_.end());
        std::vector<char*> argv;
        for (auto& word : words)
            argv.push_back(word.data());
        argv.push_back(nullptr);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            const int quiet = ::open("/dev/null", O_WRONLY);  // its start-up notes
            ::dup2(quiet, STDOUT_FILENO);
            ::execvp("redis-server", argv.data());
            ::_exit(127);
        }
        llmproxy::RedisConnection ping(settings());
        REQUIRE_MESSAGE(eventually([&] {
                            try {
                                std::string command;
                                llmproxy::append_command(command, {"PING"});
                                return ping.call(command) != nullptr;
                            } catch (const llmproxy::RedisUnavailable&) {
                                return false;
                            }
                        }),
                        "redis-server did not start (is it installed?)");
    }

    // Stops it and waits until it has ended.
    void stop() {
        if (pid_ <= 0)
            return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

  private:
    static int free_port() {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0);
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
        ::close(fd);
        return ntohs(address.sin_port);
    }

    int port_;
    std::vector<std::string> extra_;
    pid_t pid_ = -1;
};
