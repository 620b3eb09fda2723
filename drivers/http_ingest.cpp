#include "drivers/http_ingest.hpp"

#include <utility>

#include <nlohmann/json.hpp>

namespace fieldsync::drivers {
namespace {

using nlohmann::json;

void DecodeOne(std::string_view text, FrameDecoder& decoder, IngestBody& out) {
  DecodeResult result = decoder.Decode(text);
  if (result.accepted()) {
    out.frames.push_back(std::move(*result.frame));
    return;
  }
  FrameRejection rejection =
      result.rejection.value_or(MakeRejection(core::RejectReason::kParse, "frame refused", text));
  ++out.rejected[rejection.reason];
  out.rejections.push_back(std::move(rejection));
}

void RejectParse(std::string_view detail, std::string_view text, IngestBody& out) {
  ++out.rejected[core::RejectReason::kParse];
  out.rejections.push_back(MakeRejection(core::RejectReason::kParse, detail, text));
}

}  // namespace

IngestBody DecodeIngestBody(std::string_view body, FrameDecoder& decoder) {
  IngestBody out;
  // The outer document is parsed only to find the frames of an array; each frame is then handed
  // to the json format parser as text, so its rules (duplicate keys, depth, reserved keys) are the
  // same as on every other input. A DOM parse keeps only the last of duplicate keys, so objects
  // are re-serialised only for arrays; a single object goes through verbatim.
  std::size_t first = 0;
  while (first < body.size() && (body[first] == ' ' || body[first] == '\t' || body[first] == '\r' ||
                                 body[first] == '\n')) {
    ++first;
  }
  if (first < body.size() && body[first] == '{') {
    DecodeOne(body, decoder, out);
    return out;
  }
  if (first >= body.size() || body[first] != '[') {
    RejectParse("body is neither a JSON object nor an array", body, out);
    return out;
  }
  // Array: each element's original text (duplicate keys and all) must reach the frame parser,
  // so top-level element boundaries are found by scanning; strings and nesting are tracked so
  // that commas inside them do not split. The whole body is also validated as JSON.
  std::vector<std::string_view> elements;
  {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    std::size_t start = first + 1;
    bool closed = false;
    for (std::size_t i = first; i < body.size(); ++i) {
      const char c = body[i];
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '[' || c == '{') {
        ++depth;
      } else if (c == ']' || c == '}') {
        --depth;
        if (depth == 0) {
          elements.push_back(body.substr(start, i - start));
          closed = true;
          for (std::size_t j = i + 1; j < body.size(); ++j) {
            if (body[j] != ' ' && body[j] != '\t' && body[j] != '\r' && body[j] != '\n') {
              closed = false;  // trailing garbage after the array
            }
          }
          break;
        }
      } else if (c == ',' && depth == 1) {
        elements.push_back(body.substr(start, i - start));
        start = i + 1;
      }
    }
    if (!closed || !json::accept(body)) {
      RejectParse("body is not valid JSON", body, out);
      return out;
    }
  }
  if (elements.size() == 1) {
    // "[]" or "[ ]": one blank element means no frame at all.
    bool blank = true;
    for (char c : elements.front()) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') blank = false;
    }
    if (blank) return out;
  }
  for (std::string_view element : elements) {
    std::size_t k = 0;
    while (k < element.size() &&
           (element[k] == ' ' || element[k] == '\t' || element[k] == '\r' || element[k] == '\n')) {
      ++k;
    }
    if (k >= element.size() || element[k] != '{') {
      RejectParse("array element is not a JSON object", element, out);
      continue;
    }
    DecodeOne(element, decoder, out);
  }
  return out;
}

std::string RenderIngestCounts(const IngestCounts& counts) {
  json rejected = json::object();
  for (const auto& [reason, n] : counts.rejected) {
    if (n > 0) rejected[std::string(core::ToString(reason))] = n;
  }
  json doc = {{"accepted", counts.accepted},
              {"duplicates", counts.duplicates},
              {"rejected", std::move(rejected)}};
  return doc.dump();
}

}  // namespace fieldsync::drivers
