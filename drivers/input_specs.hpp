#pragma once
// Configuration of each kind of input (§6). Plain values; loaded and validated by agent/config.

#include <string>
#include <vector>

#include "drivers/frame_spec.hpp"

namespace fieldsync::drivers {

struct SerialSpec {
  std::string name;
  std::string port;  // prefer /dev/serial/by-id/... paths
  unsigned baud = 115200;
  FrameSpec frame;
  bool ack = false;  // write "ACK <seq>\n" once a frame carrying seq is durable
};

enum class MqttAck : unsigned char { kDurable, kReceived };

struct MqttSpec {
  std::string name;
  std::string url = "tcp://127.0.0.1:1883";  // tcp:// or ssl://
  std::string client_id;
  std::vector<std::string> topics;  // templates; {device} and {metric} capture one level each
  FrameSpec frame;
  int qos = 1;
  MqttAck ack = MqttAck::kDurable;
  std::string username;
  std::string password;  // secret: read from password_file; never logged
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

struct HttpSpec {
  std::string listen = "127.0.0.1:8080";  // "" turns the server off
  std::string api_key;                    // secret: from api_key_file or FIELDSYNC_API_KEY
};

}  // namespace fieldsync::drivers
