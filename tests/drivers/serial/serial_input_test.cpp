#include "drivers/serial_input.hpp"

#include <CppUTest/TestHarness.h>
#include <dirent.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "drivers/nmea_checksum.hpp"
#include "tests/drivers/serial/lazy_globals.hpp"
#include "tests/drivers/serial/pty_pair.hpp"
#include "tests/support/temp_dir.hpp"

using namespace fieldsync;
using namespace std::chrono_literals;

namespace {

// Records what the input hands over; answers each frame from the loop, like the grouped commit.
class RecordingSink final : public drivers::FrameSink {
 public:
  explicit RecordingSink(boost::asio::io_context& io) : io_(io) {}
  void Submit(const std::string&, drivers::DecodedFrame frame, drivers::SubmitDone done,
              bool) override {
    frames.push_back(frame);
    drivers::SubmitResult r;
    r.status =
        refuse_next > 0 ? drivers::SubmitStatus::kRefusedFull : drivers::SubmitStatus::kDurable;
    if (refuse_next > 0) --refuse_next;
    boost::asio::post(io_, [done, r] { done(r); });
  }
  void Reject(const std::string&, const drivers::FrameRejection& rejection) override {
    rejections.push_back(rejection.reason);
  }
  void CountSeq(const std::string&, std::int64_t lost, std::int64_t dups) override {
    frames_lost += lost;
    duplicates += dups;
  }
  void SetConnected(const std::string&, bool c) override {
    connected = c;
    if (c) ++connects;
  }

  std::vector<drivers::DecodedFrame> frames;
  std::vector<core::RejectReason> rejections;
  std::int64_t frames_lost = 0;
  std::int64_t duplicates = 0;
  bool connected = false;
  int connects = 0;
  int refuse_next = 0;

 private:
  boost::asio::io_context& io_;
};

template <class Pred>
bool RunUntil(boost::asio::io_context& io, Pred done, std::chrono::milliseconds limit = 3000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_one_for(5ms);
  }
  return done();
}

void RunFor(boost::asio::io_context& io, std::chrono::milliseconds d) {
  RunUntil(
      io, [] { return false; }, d);
}

int OpenFdCount() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the DIR's own descriptor
}

}  // namespace

TEST_GROUP(SerialInput) {
  boost::asio::io_context io;
  core::FakeClock clock;
  testing::TempDir dir;
  std::map<std::string, core::MetricSpec> metrics;
  drivers::SerialBackoff fast{20ms, 80ms};

  drivers::SerialSpec Spec(bool ack = false) {
    drivers::SerialSpec spec;
    spec.name = "arduino1";
    spec.port = dir.File("ttyACM0");
    spec.frame.device = "uno";
    spec.ack = ack;
    return spec;
  }
  std::shared_ptr<drivers::SerialInput> Make(RecordingSink & sink, drivers::SerialSpec spec) {
    auto input = drivers::SerialInput::Create(io, spec, metrics, clock, false, sink, nullptr, fast);
    CHECK(input.has_value());
    return *input;
  }
};

TEST(SerialInput, FramesSplitAcrossWritesAndGarbageLinesArriveFramedAndDecoded) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  RecordingSink sink(io);
  auto input = Make(sink, Spec());
  input->Start();
  CHECK(RunUntil(io, [&] { return sink.connected; }));
  pty.Write("{\"temp\":2");
  RunFor(io, 30ms);
  pty.Write("1.5,\"hum\"");
  RunFor(io, 30ms);
  pty.Write(":40}\r\n@@#!garbage\n\n{\"te");
  RunFor(io, 30ms);
  pty.Write("mp\":22}\n");
  CHECK(RunUntil(io, [&] { return sink.frames.size() == 2; }));
  LONGS_EQUAL(2, sink.frames[0].readings.size());
  DOUBLES_EQUAL(21.5, sink.frames[0].readings[0].value, 1e-9);
  DOUBLES_EQUAL(22.0, sink.frames[1].readings[0].value, 1e-9);
  LONGS_EQUAL(1, sink.rejections.size());
  CHECK(sink.rejections[0] == core::RejectReason::kParse);
  input->Stop();
  CHECK_FALSE(sink.connected);
}

TEST(SerialInput, ReconnectsAfterTwentyUnplugsWithoutLeakingDescriptors) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  RecordingSink sink(io);
  auto input = Make(sink, Spec());
  input->Start();
  CHECK(RunUntil(io, [&] { return sink.connected; }));
  pty.Write("{\"n\":0}\n");
  CHECK(RunUntil(io, [&] { return sink.frames.size() == 1; }));
  const int fds_connected = OpenFdCount();
  for (int i = 1; i <= 20; ++i) {
    pty.Unplug();
    CHECK(RunUntil(io, [&] { return !sink.connected; }));
    RunFor(io, 30ms);  // a failed open or two while the device is gone
    pty.Plug();
    CHECK(RunUntil(io, [&] { return sink.connected; }));
    pty.Write("{\"n\":" + std::to_string(i) + "}\n");
    CHECK(RunUntil(io, [&] { return sink.frames.size() == static_cast<std::size_t>(i) + 1; }));
    DOUBLES_EQUAL(i, sink.frames.back().readings[0].value, 0);
    LONGS_EQUAL(fds_connected, OpenFdCount());
  }
  LONGS_EQUAL(21, sink.connects);
  CHECK(input->counters().open_failures > 0);
  input->Stop();
}

TEST(SerialInput, AMissingPortIsRetriedWithBackoffUntilItAppears) {
  RecordingSink sink(io);
  auto input = Make(sink, Spec());
  input->Start();
  RunFor(io, 200ms);
  CHECK_FALSE(sink.connected);
  auto failures = input->counters().open_failures;
  // 20, 40, 80, 80 ms: backing off, but still retrying.
  CHECK(failures >= 3);
  CHECK(failures <= 6);
  testing::PtyPair pty(dir.File("ttyACM0"));
  CHECK(RunUntil(io, [&] { return sink.connected; }));
  pty.Write("{\"t\":1}\n");
  CHECK(RunUntil(io, [&] { return sink.frames.size() == 1; }));
  input->Stop();
}

TEST(SerialInput, DurableSeqFramesAreAcknowledgedAndAResendIsStoredOnceAndAcknowledgedAgain) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  RecordingSink sink(io);
  auto input = Make(sink, Spec(/*ack=*/true));
  input->Start();
  CHECK(RunUntil(io, [&] { return sink.connected; }));
  pty.Write("{\"seq\":7,\"t\":1}\n{\"seq\":8,\"t\":2}\n{\"t\":3}\n");
  std::string acks;
  CHECK(RunUntil(io, [&] {
    acks += pty.ReadNow();
    return sink.frames.size() == 3 && acks.size() >= 12;
  }));
  STRCMP_EQUAL("ACK 7\nACK 8\n", acks.c_str());  // none for the frame without seq
  pty.Write("{\"seq\":8,\"t\":2}\n");            // the firmware missed ACK 8 and resends
  RunFor(io, 100ms);
  LONGS_EQUAL(3, sink.frames.size());  // stored once
  LONGS_EQUAL(1, sink.duplicates);
  acks.clear();
  RunUntil(io, [&] {
    acks += pty.ReadNow();
    return acks.size() >= 6;
  });
  STRCMP_EQUAL("ACK 8\n", acks.c_str());
  input->Stop();
}

TEST(SerialInput, AFrameTheStoreRefusesIsNotAcknowledgedAndItsResendIsStored) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  RecordingSink sink(io);
  sink.refuse_next = 1;
  auto input = Make(sink, Spec(/*ack=*/true));
  input->Start();
  CHECK(RunUntil(io, [&] { return sink.connected; }));
  pty.Write("{\"seq\":1,\"t\":1}\n");
  CHECK(RunUntil(io, [&] { return sink.frames.size() == 1; }));
  RunFor(io, 50ms);
  STRCMP_EQUAL("", pty.Read(50ms).c_str());
  pty.Write("{\"seq\":1,\"t\":1}\n");
  CHECK(RunUntil(io, [&] { return sink.frames.size() == 2; }));
  std::string acks;
  RunUntil(io, [&] {
    acks += pty.ReadNow();
    return acks.size() >= 6;
  });
  STRCMP_EQUAL("ACK 1\n", acks.c_str());
  LONGS_EQUAL(0, sink.duplicates);
  input->Stop();
}

TEST(SerialInput, ARejectedFrameIsAcknowledgedUnlessAResendCouldCureIt) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  RecordingSink sink(io);
  auto spec = Spec(/*ack=*/true);
  spec.frame.format = drivers::FrameFormat::kKv;
  spec.frame.checksum = drivers::Checksum::kNmea;
  auto input = Make(sink, spec);
  input->Start();
  CHECK(RunUntil(io, [&] { return sink.connected; }));
  // seq 3: a non-numeric value, refused however often it is sent: acknowledged.
  // seq 4: a damaged checksum, which the resend may cure: not acknowledged.
  // seq 5: a good frame.
  auto line = [](const std::string& body) { return drivers::AppendNmeaChecksum(body) + "\n"; };
  pty.Write(line("seq=3,t=abc") + "seq=4,t=1*00\n" + line("seq=5,t=2"));
  std::string acks;
  CHECK(RunUntil(io, [&] {
    acks += pty.ReadNow();
    return sink.frames.size() == 1 && sink.rejections.size() == 2 && acks.size() >= 12;
  }));
  RunFor(io, 50ms);
  acks += pty.ReadNow();
  STRCMP_EQUAL("ACK 3\nACK 5\n", acks.c_str());
  LONGS_EQUAL(core::RejectReason::kBadValue, sink.rejections[0]);
  LONGS_EQUAL(core::RejectReason::kChecksum, sink.rejections[1]);
  input->Stop();
}

TEST(SerialInput, ARejectedFrameIsNotAcknowledgedWhileItsSeqIsStillBeingCommitted) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  RecordingSink sink(io);
  auto input = Make(sink, Spec(/*ack=*/true));
  input->Start();
  CHECK(RunUntil(io, [&] { return sink.connected; }));
  // The good frame 5 is handed over, then a damaged copy of it (a repeated key) arrives in the
  // same read, before the commit returned: only the durable original may answer "ACK 5".
  pty.Write("{\"seq\":5,\"t\":1}\n{\"seq\":5,\"t\":1,\"t\":2}\n");
  std::string acks;
  CHECK(RunUntil(io, [&] {
    acks += pty.ReadNow();
    return sink.frames.size() == 1 && sink.rejections.size() == 1 && acks.size() >= 6;
  }));
  RunFor(io, 100ms);
  acks += pty.ReadNow();
  STRCMP_EQUAL("ACK 5\n", acks.c_str());
  input->Stop();
}

TEST(SerialInput, AResendAfterTheBoardReappearsIsStillADuplicate) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  RecordingSink sink(io);
  auto input = Make(sink, Spec(/*ack=*/true));
  input->Start();
  CHECK(RunUntil(io, [&] { return sink.connected; }));
  pty.Write("{\"seq\":5,\"t\":1}\n");
  CHECK(RunUntil(io, [&] { return sink.frames.size() == 1; }));
  RunFor(io, 30ms);
  pty.Unplug();  // the ACK is lost with the port
  CHECK(RunUntil(io, [&] { return !sink.connected; }));
  pty.Plug();
  CHECK(RunUntil(io, [&] { return sink.connected; }));
  pty.ReadNow();
  pty.Write("{\"seq\":5,\"t\":1}\n{\"seq\":6,\"t\":2}\n");
  std::string acks;
  CHECK(RunUntil(io, [&] {
    acks += pty.ReadNow();
    return sink.frames.size() == 2 && acks.size() >= 12;
  }));
  STRCMP_EQUAL("ACK 5\nACK 6\n", acks.c_str());
  LONGS_EQUAL(1, sink.duplicates);
  input->Stop();
}

TEST(SerialInput, SeqsPrimedFromTheStoreMakeAResendADuplicate) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  RecordingSink sink(io);
  auto input = Make(sink, Spec(/*ack=*/true));
  input->PrimeSeqs({{"uno", 3}, {"uno", 4}});  // stored by an earlier run of the agent
  input->Start();
  CHECK(RunUntil(io, [&] { return sink.connected; }));
  pty.Write("{\"seq\":4,\"t\":1}\n{\"seq\":5,\"t\":2}\n");
  std::string acks;
  CHECK(RunUntil(io, [&] {
    acks += pty.ReadNow();
    return sink.frames.size() == 1 && acks.size() >= 12;
  }));
  STRCMP_EQUAL("ACK 4\nACK 5\n", acks.c_str());
  LONGS_EQUAL(1, sink.duplicates);
  LONGS_EQUAL(0, sink.frames_lost);
  CHECK(sink.frames[0].seq_tracked);
  input->Stop();
}

TEST(SerialInput, SeqGapsAreCountedAsLostFrames) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  RecordingSink sink(io);
  auto input = Make(sink, Spec());
  input->Start();
  CHECK(RunUntil(io, [&] { return sink.connected; }));
  pty.Write("{\"seq\":1,\"t\":1}\n{\"seq\":5,\"t\":1}\n");
  CHECK(RunUntil(io, [&] { return sink.frames.size() == 2; }));
  LONGS_EQUAL(3, sink.frames_lost);
  input->Stop();
}

TEST(SerialInput, UnsupportedBaudRateIsRefusedAtCreation) {
  RecordingSink sink(io);
  auto spec = Spec();
  spec.baud = 12345;
  auto input = drivers::SerialInput::Create(io, spec, metrics, clock, false, sink);
  CHECK_FALSE(input.has_value());
  CHECK(input.error().code == core::Errc::kInvalidArgument);
}
