// arduino_sim: a simulated Arduino greenhouse controller for the demo and the tests.
//
// Writes one frame per interval to a serial device (a pseudo-terminal end made by socat) or to
// stdout, the way a sketch's Serial.println would: greenhouse sensors (temperature, humidity, pH,
// EC, water level, light) and an energy meter whose pulse counter resets now and then, with a
// `seq` frame counter and, now and then, a garbage line (line noise, a half-written frame).
//
//   arduino_sim [--port PATH] [--interval-ms N] [--format json|kv] [--device NAME]
//               [--garbage-every N] [--reset-every N] [--count N] [--seed N]
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>

namespace {

struct Options {
  std::string port;  // empty: stdout
  int interval_ms = 1000;
  bool json = true;
  std::string device = "greenhouse_a";
  long garbage_every = 25;  // 0: never
  long reset_every = 300;   // energy counter resets every N frames; 0: never
  long count = -1;          // frames to write; -1: until killed
  unsigned seed = 42;
};

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "arduino_sim: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port")
      o.port = next("--port");
    else if (a == "--interval-ms")
      o.interval_ms = std::atoi(next("--interval-ms"));
    else if (a == "--format")
      o.json = std::string(next("--format")) != "kv";
    else if (a == "--device")
      o.device = next("--device");
    else if (a == "--garbage-every")
      o.garbage_every = std::atol(next("--garbage-every"));
    else if (a == "--reset-every")
      o.reset_every = std::atol(next("--reset-every"));
    else if (a == "--count")
      o.count = std::atol(next("--count"));
    else if (a == "--seed")
      o.seed = static_cast<unsigned>(std::atol(next("--seed")));
    else
      return false;
  }
  return true;
}

// Slowly drifting sensor values with a daily-looking swing and noise.
struct Greenhouse {
  std::mt19937 rng;
  double t = 0;
  double energy_wh = 0;

  explicit Greenhouse(unsigned seed) : rng(seed) {}
  double Noise(double scale) { return std::normal_distribution<double>(0, scale)(rng); }

  std::string Frame(bool json, const std::string& device, unsigned long seq, bool reset) {
    t += 1;
    double swing = std::sin(t / 600.0);
    double temperature = 22 + 6 * swing + Noise(0.2);
    double humidity = 65 - 15 * swing + Noise(0.8);
    double ph = 6.2 + Noise(0.05);
    double ec = 1.8 + 0.2 * swing + Noise(0.02);
    double water = 55 - std::fmod(t / 30.0, 40) + Noise(0.3);
    double light = std::max(0.0, 30000 * swing + Noise(500));
    energy_wh = reset ? 0 : energy_wh + 1.5 + std::fabs(Noise(0.3));
    char buf[512];
    if (json) {
      std::snprintf(buf, sizeof buf,
                    "{\"device\":\"%s\",\"seq\":%lu,\"temperature\":%.2f,\"humidity\":%.1f,"
                    "\"ph\":%.2f,\"ec\":%.3f,\"water_level\":%.1f,\"light\":%.0f,"
                    "\"energy_wh\":%.2f}\n",
                    device.c_str(), seq, temperature, humidity, ph, ec, water, light, energy_wh);
    } else {
      std::snprintf(buf, sizeof buf,
                    "device=%s seq=%lu temperature: %.2f, humidity: %.1f, ph = %.2f\tec=%.3f "
                    "water_level=%.1f light=%.0f energy_wh=%.2f\r\n",
                    device.c_str(), seq, temperature, humidity, ph, ec, water, light, energy_wh);
    }
    return buf;
  }

  std::string Garbage() {
    static const char* kNoise[] = {"\x7f\x03~~@@", "{\"device\":\"greenhouse_a\",\"temper",
                                   "Temperature: 22.5, Humidity: ", "\xff\xfe garbage \x01"};
    return std::string(kNoise[rng() % 4]) + "\n";
  }
};

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: arduino_sim [--port PATH] [--interval-ms N] [--format json|kv] "
                 "[--device NAME] [--garbage-every N] [--reset-every N] [--count N] [--seed N]\n");
    return 2;
  }
  int fd = STDOUT_FILENO;
  if (!o.port.empty()) {
    fd = open(o.port.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
      std::fprintf(stderr, "arduino_sim: cannot open %s: %s\n", o.port.c_str(), strerror(errno));
      return 1;
    }
  }
  Greenhouse gh(o.seed);
  unsigned long seq = 0;
  for (long i = 0; o.count < 0 || i < o.count; ++i) {
    if (o.garbage_every > 0 && i % o.garbage_every == o.garbage_every - 1) {
      if (!WriteAll(fd, gh.Garbage())) return 1;
    }
    bool reset = o.reset_every > 0 && i > 0 && i % o.reset_every == 0;
    if (!WriteAll(fd, gh.Frame(o.json, o.device, ++seq, reset))) return 1;
    if (o.interval_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.interval_ms));
  }
  return 0;
}
