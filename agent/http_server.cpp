#include "agent/http_server.hpp"

#include <array>
#include <charconv>
#include <list>
#include <optional>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace fieldsync::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

core::Expected<ListenAddress> ParseListenAddress(const std::string& listen) {
  auto bad = [&](const std::string& why) {
    return core::MakeError(core::Errc::kInvalidArgument,
                           "[http] listen \"" + listen + "\": " + why);
  };
  ListenAddress out;
  std::string port_text;
  if (!listen.empty() && listen.front() == '[') {
    const std::size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return bad("expected [address]:port");
    }
    out.host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) return bad("expected host:port");
    out.host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return bad("port must be 0..65535");
  }
  out.port = static_cast<std::uint16_t>(port);
  boost::system::error_code addr_ec;
  asio::ip::make_address(out.host, addr_ec);
  if (addr_ec) return bad("host must be an IP address");
  return out;
}

class Session;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& context, HttpServerOptions o, HttpRoutes& r)
      : io(context), acceptor(context), options(std::move(o)), routes(r) {}

  void Accept();

  asio::io_context& io;
  tcp::acceptor acceptor;
  HttpServerOptions options;
  HttpRoutes& routes;
  std::list<std::weak_ptr<Session>> sessions;
  std::size_t active = 0;
  bool stopped = false;
};

// One connection: read a request, answer it, repeat while keep-alive holds.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  ~Session() { --server_->active; }

  void Begin() { ReadHeader(); }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    // One deadline for the whole request, header and body: a client trickling bytes cannot
    // extend it.
    stream_.expires_after(server_->options.read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    // Beast checks Content-Length against the body limit while parsing the header.
    if (ec == http::error::body_limit) {
      return Answer(HttpReply{413, "application/json", ErrorBody("body over 1 MiB")}, false);
    }
    if (ec) return Close();  // timeout, client gone, or a malformed/oversized header
    const auto& req = parser_->get();
    const auto length = parser_->content_length();
    if (length && *length > server_->options.max_body_bytes) {
      return Answer(HttpReply{413, "application/json", ErrorBody("body over 1 MiB")}, false);
    }
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
                          if (wec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRequest(ec); });
  }

  void OnRequest(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Answer(HttpReply{413, "application/json", ErrorBody("body over 1 MiB")}, false);
    }
    if (ec) return Close();
    stream_.expires_never();  // the answer may wait for a commit; the write sets its own bound
    http::request<http::string_body> req = parser_->release();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    if (auto key = req.find("X-API-Key"); key != req.end()) {
      request.api_key = std::string(key->value());
    }
    request.body = std::move(req.body());
    const bool keep_alive = req.keep_alive();
    head_ = req.method() == http::verb::head;
    version_ = req.version();
    server_->routes.Handle(std::move(request),
                           [self = shared_from_this(), keep_alive](HttpReply reply) {
                             self->Answer(std::move(reply), keep_alive);
                           });
  }

  // After an early 413 the client may still be sending its body; closing with unread data would
  // reset the connection and could destroy the answer before the client reads it. So the sending
  // side is shut down and the rest is read and discarded for a short while first.
  void LingeringClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    auto sink = std::make_shared<std::array<char, 16 * 1024>>();
    Drain(sink, 0);
  }

  void Drain(std::shared_ptr<std::array<char, 16 * 1024>> sink, std::size_t drained) {
    if (drained > 4 * server_->options.max_body_bytes) return Close();
    stream_.async_read_some(asio::buffer(*sink), [self = shared_from_this(), sink, drained](
                                                     beast::error_code ec, std::size_t n) {
      if (ec) return self->Close();
      self->Drain(sink, drained + n);
    });
  }

  void Answer(HttpReply reply, bool keep_alive) {
    if (server_->stopped) keep_alive = false;
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), version_);
    res->set(http::field::server, "fieldsync");
    res->set(http::field::content_type, reply.content_type);
    res->set(http::field::cache_control, "no-store");
    res->keep_alive(keep_alive);
    res->body() = head_ ? std::string() : std::move(reply.body);
    res->prepare_payload();
    stream_.expires_after(server_->options.read_timeout);
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
          if (ec || self->server_->stopped) return self->Close();
          if (!keep_alive) return self->LingeringClose();
          self->ReadHeader();
        });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::Impl> server_;
  unsigned version_ = 11;
  bool head_ = false;
};

void HttpServer::Impl::Accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped) return;
    if (!ec) {
      if (self->active >= self->options.max_connections) {
        // Over the bound: refuse at once rather than queue; clients retry.
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        ++self->active;
        auto session = std::make_shared<Session>(std::move(socket), self);
        self->sessions.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
        self->sessions.push_back(session);
        session->Begin();
      }
    } else if (ec != asio::error::operation_aborted) {
      spdlog::warn("http: accept failed: {}", ec.message());
    }
    self->Accept();
  });
}

core::Expected<std::unique_ptr<HttpServer>> HttpServer::Start(asio::io_context& io,
                                                              HttpServerOptions options,
                                                              HttpRoutes& routes) {
  core::Expected<ListenAddress> address = ParseListenAddress(options.listen);
  if (!address) return address.error();
  auto impl = std::make_shared<Impl>(io, std::move(options), routes);
  const tcp::endpoint endpoint(asio::ip::make_address(address->host), address->port);
  beast::error_code ec;
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::MakeError(core::Errc::kIo,
                           "http: cannot listen on " + impl->options.listen + ": " + ec.message());
  }
  impl->Accept();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

std::uint16_t HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  for (const std::weak_ptr<Session>& weak : impl_->sessions) {
    if (auto session = weak.lock()) session->Close();
  }
  impl_->sessions.clear();
}

}  // namespace fieldsync::agent
