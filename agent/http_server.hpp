#pragma once
// HttpServer: the HTTP/1.1 server of §8 (Boost.Beast) on the agent's io_context.
//
// - Bound to `listen` ("127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080"; port 0 picks a free one).
// - Keep-alive; each request must arrive whole (header and body) within `read_timeout`, so a slow
//   or idle client cannot hold a connection forever; writes have the same bound.
// - Headers are limited to `max_header_bytes`; a body larger than `max_body_bytes` is answered 413
//   from its Content-Length before any of it is read (and from the parser's body limit for chunked
//   bodies), then the connection is closed. `Expect: 100-continue` is honoured.
// - At most `max_connections` connections at once; further ones are closed as soon as accepted.
//
// Thread-safety: construct, Stop and destroy on the io_context's thread (or before it runs).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/http_routes.hpp"
#include "core/expected.hpp"

namespace fieldsync::agent {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";
  std::chrono::milliseconds read_timeout{30000};
  std::size_t max_connections = 64;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
};

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};

// "host:port" or "[v6]:port". kInvalidArgument naming the value.
core::Expected<ListenAddress> ParseListenAddress(const std::string& listen);

class HttpServer {
 public:
  // Binds and starts accepting. `routes` must outlive the server. kInvalidArgument for a bad
  // address, kIo when the address cannot be bound (in use, not local).
  static core::Expected<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io,
                                                           HttpServerOptions options,
                                                           HttpRoutes& routes);
  ~HttpServer();  // Stops.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (useful with port 0).
  std::uint16_t port() const;
  // Stops accepting and closes every open connection. Idempotent.
  void Stop();

  struct Impl;  // opaque; public only so that the connections in the .cpp can name it

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace fieldsync::agent
