#pragma once
// A blocking HTTP/1.1 client for the server tests (Boost.Beast), keeping one connection open
// across requests so keep-alive is exercised.

#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

namespace fieldsync::testing {

struct HttpAnswer {
  unsigned status = 0;  // 0: the connection failed or closed before an answer
  std::string body;
  std::string content_type;
  bool keep_alive = false;
};

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);
  HttpAnswer Send(const std::string& method, const std::string& target,
                  const std::string& body = "",
                  const std::optional<std::string>& api_key = std::nullopt);

 private:
  void Connect();
  std::uint16_t port_;
  boost::asio::io_context io_;
  std::optional<boost::asio::ip::tcp::socket> socket_;
  boost::beast::flat_buffer buffer_;
};

// Runs curl and returns the status code it printed (0 when curl failed).
unsigned CurlStatus(const std::string& args);

}  // namespace fieldsync::testing
