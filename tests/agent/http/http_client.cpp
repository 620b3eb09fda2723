#include "tests/agent/http/http_client.hpp"

#include <cstdio>

#include <boost/asio/connect.hpp>
#include <boost/beast/http.hpp>

namespace fieldsync::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

HttpClient::HttpClient(std::uint16_t port) : port_(port) {}

void HttpClient::Connect() {
  socket_.emplace(io_);
  socket_->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  buffer_.clear();
}

HttpAnswer HttpClient::Send(const std::string& method, const std::string& target,
                            const std::string& body, const std::optional<std::string>& api_key) {
  HttpAnswer answer;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (!socket_ || !socket_->is_open()) Connect();
      http::request<http::string_body> req(http::string_to_verb(method), target, 11);
      req.set(http::field::host, "127.0.0.1");
      if (api_key) req.set("X-API-Key", *api_key);
      if (!body.empty() || method == "POST") {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
      }
      req.keep_alive(true);
      req.prepare_payload();
      http::write(*socket_, req);
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      http::read(*socket_, buffer_, parser);
      auto& res = parser.get();
      answer.status = res.result_int();
      answer.body = res.body();
      answer.content_type = std::string(res[http::field::content_type]);
      answer.keep_alive = res.keep_alive();
      if (!answer.keep_alive) socket_.reset();
      return answer;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "http client: %s %s: %s\n", method.c_str(), target.c_str(), e.what());
      socket_.reset();  // a closed keep-alive connection: reconnect once
    }
  }
  return answer;
}

unsigned CurlStatus(const std::string& args) {
  const std::string command = "curl -s -o /dev/null -w '%{http_code}' " + args;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return 0;
  unsigned code = 0;
  if (std::fscanf(pipe, "%u", &code) != 1) code = 0;
  ::pclose(pipe);
  return code;
}

}  // namespace fieldsync::testing
