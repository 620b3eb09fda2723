// The HTTP server on a real socket, with the real store behind a test FrameSink: the status-code
// matrix of §8, size limits, wrong keys, slow clients and the connection bound.
#include "agent/http_server.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "agent/http_routes.hpp"
#include "core/clock.hpp"
#include "drivers/frame_decoder.hpp"
#include "store/store.hpp"
#include "tests/agent/http/http_client.hpp"
#include "tests/drivers/mqtt/loop_thread.hpp"
#include "tests/drivers/mqtt/store_sink.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest last: its leak detector redefines operator new.
#include <CppUTest/TestHarness.h>

#include <CppUTest/MemoryLeakWarningPlugin.h>  // after TestHarness.h, which it needs

using namespace fieldsync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* kKey = "k3y-for-tests-0123456789";

struct Server {
  testing::TempDir dir;
  core::FakeClock clock;
  std::map<std::string, core::MetricSpec> metrics;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<testing::StoreSink> sink;
  std::unique_ptr<drivers::FrameDecoder> decoder;
  std::unique_ptr<agent::HttpRoutes> routes;
  std::unique_ptr<agent::HttpServer> server;
  std::vector<agent::RunRequest> runs;
  testing::LoopThread loop;

  explicit Server(std::string api_key = kKey, store::StoreOptions store_options = {},
                  agent::HttpServerOptions options = {}) {
    auto opened = store::Store::Open(dir.path(), store_options, clock);
    if (!opened) FAIL(opened.error().message.c_str());
    store = std::move(*opened);
    sink = std::make_unique<testing::StoreSink>(*store);
    decoder = std::make_unique<drivers::FrameDecoder>(drivers::FrameSpec{}, metrics, clock, false);
    agent::HttpServices services;
    services.api_key = std::move(api_key);
    services.sink = sink.get();
    services.decoder = decoder.get();
    services.status_json = [] { return std::string(R"({"gateway":"test-gw"})"); };
    services.metrics = [] {
      agent::MetricsSnapshot s;
      s.inputs["http"].readings_ingested = 3;
      return s;
    };
    services.run = [this](const agent::RunRequest& r,
                          std::function<void(core::Expected<std::string>)> done) {
      runs.push_back(r);
      done(std::string(R"({"ok":true})"));
    };
    routes = std::make_unique<agent::HttpRoutes>(std::move(services));
    options.listen = "127.0.0.1:0";
    auto started = loop.Call([&] { return agent::HttpServer::Start(loop.io(), options, *routes); });
    if (!started) FAIL(started.error().message.c_str());
    server = std::move(*started);
  }
  ~Server() {
    loop.Call([this] {
      server.reset();
      sink.reset();
      store.reset();
      return 0;
    });
  }
  std::uint16_t port() {
    return loop.Call([this] { return server->port(); });
  }
  std::size_t Stored() {
    return loop.Call([this] { return testing::AllPending(*store).size(); });
  }
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }
};

}  // namespace

// The server's loop thread allocates while the test's thread does; the default leak detector keeps
// its table unlocked, and two threads at once corrupt it into false leaks and "deallocating
// non-allocated memory". Each test joins that thread before teardown.
TEST_GROUP(HttpServer){void setup()
                           override{MemoryLeakWarningPlugin::turnOnThreadSafeNewDeleteOverloads();
}
void teardown() override {
  MemoryLeakWarningPlugin::turnOnDefaultNotThreadSafeNewDeleteOverloads();
}
}
;

TEST(HttpServer, AcceptedFramesAreDurableWhenAnswered202) {
  Server s;
  testing::HttpClient client(s.port());
  auto answer = client.Send("POST", "/api/data",
                            R"({"device": "d1", "ts": 1700000000, "temp": 21.5, "hum": 40})", kKey);
  CHECK_EQUAL(202u, answer.status);
  json body = json::parse(answer.body);
  CHECK_EQUAL(2, body["accepted"].get<int>());
  CHECK_EQUAL(0, body["duplicates"].get<int>());
  CHECK(body["rejected"].empty());
  CHECK_EQUAL(2u, s.Stored());  // committed before the answer
  CHECK(answer.keep_alive);

  auto again = client.Send("POST", "/api/data",
                           R"({"device": "d1", "ts": 1700000000, "temp": 21.5, "hum": 40})", kKey);
  CHECK_EQUAL(202u, again.status);
  CHECK_EQUAL(2, json::parse(again.body)["duplicates"].get<int>());
  CHECK_EQUAL(2u, s.Stored());
}

TEST(HttpServer, FramesWithoutTsInOneArrayAreAllKept) {
  Server s;
  testing::HttpClient client(s.port());
  std::string array = "[";
  for (int i = 0; i < 200; ++i) {
    array += std::string(i ? "," : "") + R"({"device": "d1", "level": )" + std::to_string(i) + "}";
  }
  array += "]";
  auto answer = client.Send("POST", "/api/data", array, kKey);
  CHECK_EQUAL(202u, answer.status);
  CHECK_EQUAL(200, json::parse(answer.body)["accepted"].get<int>());
  CHECK_EQUAL(200u, s.Stored());
}

TEST(HttpServer, PartlyBadArrayIs202WithCountsAndAllBadIs400) {
  Server s;
  testing::HttpClient client(s.port());
  auto partly =
      client.Send("POST", "/api/data",
                  R"([{"device": "d1", "a": 1}, {"device": "d1", "a": "x"}, {"a": 2}])", kKey);
  CHECK_EQUAL(202u, partly.status);
  json p = json::parse(partly.body);
  CHECK_EQUAL(1, p["accepted"].get<int>());
  CHECK_EQUAL(1, p["rejected"]["no_readings"].get<int>());
  CHECK_EQUAL(1, p["rejected"]["bad_name"].get<int>());

  auto bad = client.Send("POST", "/api/data", "this is not json", kKey);
  CHECK_EQUAL(400u, bad.status);
  json b = json::parse(bad.body);
  CHECK_EQUAL(0, b["accepted"].get<int>());
  CHECK_EQUAL(1, b["rejected"]["parse"].get<int>());
  CHECK_EQUAL(1, s.loop.Call([&] { return s.sink->rejected(core::RejectReason::kParse); }));
}

TEST(HttpServer, KeysMissingWrongAndUnconfigured) {
  Server s;
  testing::HttpClient client(s.port());
  CHECK_EQUAL(401u, client.Send("POST", "/api/data", R"({"device":"d","a":1})").status);
  CHECK_EQUAL(401u, client.Send("POST", "/api/data", R"({"device":"d","a":1})", "nope").status);
  CHECK_EQUAL(401u, client.Send("POST", "/api/run", R"({"command":"sync"})", "nope").status);
  CHECK_EQUAL(0u, s.Stored());

  Server open("");
  testing::HttpClient c2(open.port());
  auto refused = c2.Send("POST", "/api/data", R"({"device":"d","a":1})", kKey);
  CHECK_EQUAL(403u, refused.status);
  CHECK_EQUAL(403u, c2.Send("POST", "/api/run", R"({"command":"sync"})").status);
  CHECK_EQUAL(0u, open.Stored());
}

TEST(HttpServer, AThousandWrongKeysAreAllRefusedAndNothingLeaks) {
  Server s;
  testing::HttpClient client(s.port());
  const std::string key(kKey);
  int refused = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string guess = key.substr(0, static_cast<std::size_t>(i) % key.size()) +
                        std::to_string(i);  // prefixes of the real key, then junk
    if (guess == key) guess += "x";
    auto answer = client.Send("POST", "/api/data", R"({"device":"d","a":1})", guess);
    if (answer.status == 401u) ++refused;
    if (answer.status != 401u) std::fprintf(stderr, "guess %s: %u\n", guess.c_str(), answer.status);
    CHECK(answer.body.find(key) == std::string::npos);
  }
  CHECK_EQUAL(1000, refused);
  CHECK_EQUAL(0u, s.Stored());
}

TEST(HttpServer, BodiesOverOneMebibyteAre413) {
  Server s;
  const std::string big = R"({"device":"d","note":")" + std::string(1024 * 1024 + 10, 'x') + "\"}";
  testing::HttpClient client(s.port());
  auto answer = client.Send("POST", "/api/data", big, kKey);
  CHECK_EQUAL(413u, answer.status);
  // The same through curl (which announces the size and waits for 100-continue).
  testing::TempDir tmp;
  testing::WriteFile(tmp.File("big.json"), big);
  CHECK_EQUAL(413u,
              testing::CurlStatus("-H 'X-API-Key: " + std::string(kKey) + "' --data-binary @" +
                                  tmp.File("big.json") + " " + s.Url("/api/data")));
  // Chunked, without Content-Length: stopped by the body limit.
  CHECK_EQUAL(413u, testing::CurlStatus("-H 'X-API-Key: " + std::string(kKey) +
                                        "' -H 'Transfer-Encoding: chunked' --data-binary @" +
                                        tmp.File("big.json") + " " + s.Url("/api/data")));
  // Just under the limit is fine.
  const std::string fits =
      R"({"device":"d","a":1,"note":")" + std::string(1000 * 1000, 'x') + "\"}";
  CHECK_EQUAL(202u, testing::HttpClient(s.port()).Send("POST", "/api/data", fits, kKey).status);
}

TEST(HttpServer, FullStoreWithRejectNewIs503) {
  store::StoreOptions options;
  options.max_mb = 1;
  options.on_full = store::OnFull::kRejectNew;
  Server s(kKey, options);
  // Fill the store through the same store until it refuses.
  const bool full = s.loop.Call([&] {
    for (int round = 0; round < 2000; ++round) {
      store::IngestBatch batch;
      batch.input = "filler";
      for (int i = 0; i < 200; ++i) {
        core::Reading r{"filler", "m" + std::to_string(i % 20),
                        1600000000LL * 1000000 + round * 1000 + i, 1.0, core::TsSource::kDevice};
        batch.frames.push_back(store::IngestFrame{{r}});
      }
      auto result = s.store->Commit(batch);
      if (!result || result->refused_frames == 0) continue;
      // Full: make sure even a one-reading frame is refused now, not only a big batch.
      store::IngestBatch one;
      one.input = "filler";
      one.frames.push_back(store::IngestFrame{{core::Reading{
          "filler", "x", 1650000000LL * 1000000 + round, 1.0, core::TsSource::kDevice}}});
      auto single = s.store->Commit(one);
      if (single && single->refused_frames == 1) return true;
    }
    return false;
  });
  CHECK(full);
  testing::HttpClient client(s.port());
  auto answer = client.Send("POST", "/api/data", R"({"device":"d1","ts":1700000000,"a":1})", kKey);
  CHECK_EQUAL(503u, answer.status);
  json body = json::parse(answer.body);
  CHECK_EQUAL(0, body["accepted"].get<int>());
  CHECK_EQUAL(1, body["rejected"]["store_full"].get<int>());
}

TEST(HttpServer, StatusMetricsRunAndUnknownPaths) {
  Server s;
  testing::HttpClient client(s.port());
  auto status = client.Send("GET", "/status");
  CHECK_EQUAL(200u, status.status);
  STRCMP_EQUAL("test-gw", json::parse(status.body)["gateway"].get<std::string>().c_str());
  auto metrics = client.Send("GET", "/metrics");
  CHECK_EQUAL(200u, metrics.status);
  STRCMP_CONTAINS("text/plain", metrics.content_type.c_str());
  STRCMP_CONTAINS("fieldsync_readings_ingested_total{input=\"http\"} 3", metrics.body.c_str());

  auto run =
      client.Send("POST", "/api/run", R"({"command":"backfill","days":2,"dry_run":true})", kKey);
  CHECK_EQUAL(200u, run.status);
  CHECK_EQUAL(1u, s.loop.Call([&] { return s.runs.size(); }));
  CHECK_EQUAL(2, *s.loop.Call([&] { return s.runs.front().days; }));
  CHECK_EQUAL(400u, client.Send("POST", "/api/run", R"({"command":"format-disk"})", kKey).status);
  CHECK_EQUAL(404u, client.Send("GET", "/nope").status);
  CHECK_EQUAL(405u, client.Send("GET", "/api/data").status);
  CHECK_EQUAL(405u, client.Send("POST", "/status", "{}").status);
}

TEST(HttpServer, SlowClientIsCutOffAtTheReadTimeout) {
  agent::HttpServerOptions options;
  options.read_timeout = 300ms;
  Server s(kKey, {}, options);
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), s.port()});
  boost::asio::write(socket, boost::asio::buffer(std::string("POST /api/data HTTP/1.1\r\nHo")));
  const auto start = std::chrono::steady_clock::now();
  char byte = 0;
  boost::system::error_code ec;
  boost::asio::read(socket, boost::asio::buffer(&byte, 1), ec);  // returns when the server closes
  CHECK(ec.failed());
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST(HttpServer, ConnectionsBeyondTheBoundAreClosed) {
  agent::HttpServerOptions options;
  options.max_connections = 2;
  Server s(kKey, {}, options);
  testing::HttpClient a(s.port());
  testing::HttpClient b(s.port());
  CHECK_EQUAL(200u, a.Send("GET", "/status").status);
  CHECK_EQUAL(200u, b.Send("GET", "/status").status);
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket third(io);
  third.connect({boost::asio::ip::make_address("127.0.0.1"), s.port()});
  boost::asio::write(third, boost::asio::buffer(std::string("GET /status HTTP/1.1\r\n\r\n")));
  char byte = 0;
  boost::system::error_code ec;
  boost::asio::read(third, boost::asio::buffer(&byte, 1), ec);
  CHECK(ec.failed());  // closed without an answer
  // The two kept-alive connections still work.
  CHECK_EQUAL(200u, a.Send("GET", "/status").status);
}
