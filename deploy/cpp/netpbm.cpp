#include "netpbm.hpp"

#include <cctype>
#include <fstream>
#include <limits>
#include <sstream>

namespace s2rdepth_example {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw std::runtime_error("cannot read image " + path + ": " + why);
}

// Next whitespace-separated header token, skipping "#" comments.
std::string next_token(std::istream& in) {
  std::string token;
  int c = in.get();
  while (c != EOF) {
    if (c == '#') {
      while (c != EOF && c != '\n' && c != '\r') c = in.get();
    } else if (std::isspace(c)) {
      if (!token.empty()) return token;
    } else {
      token.push_back(static_cast<char>(c));
    }
    c = in.get();
  }
  return token;
}

long parse_positive(const std::string& path, const std::string& token, const char* what, long max) {
  if (token.empty() || token.size() > 9) fail(path, std::string("bad ") + what + " '" + token + "'");
  for (char ch : token) {
    if (!std::isdigit(static_cast<unsigned char>(ch))) fail(path, std::string("bad ") + what + " '" + token + "'");
  }
  long v = std::stol(token);
  if (v <= 0 || v > max) fail(path, std::string(what) + " out of range: " + token);
  return v;
}

}  // namespace

NetpbmImage read_netpbm(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "file not found or not readable");
  std::string magic = next_token(in);
  NetpbmImage img;
  if (magic == "P5") {
    img.channels = 1;
  } else if (magic == "P6") {
    img.channels = 3;
  } else {
    fail(path, "not a binary PGM (P5) or PPM (P6) file (magic '" + magic.substr(0, 8) + "')");
  }
  // The header ends with exactly one whitespace character after maxval, consumed by next_token.
  img.width = static_cast<int>(parse_positive(path, next_token(in), "width", 1L << 16));
  img.height = static_cast<int>(parse_positive(path, next_token(in), "height", 1L << 16));
  img.maxval = static_cast<int>(parse_positive(path, next_token(in), "maxval", 65535));
  const size_t count = static_cast<size_t>(img.width) * img.height * img.channels;
  const size_t bytes_per_sample = img.maxval > 255 ? 2 : 1;
  std::vector<unsigned char> raw(count * bytes_per_sample);
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
  if (static_cast<size_t>(in.gcount()) != raw.size()) {
    fail(path, "truncated pixel data (" + std::to_string(in.gcount()) + " of " +
                   std::to_string(raw.size()) + " bytes)");
  }
  img.data.resize(count);
  for (size_t i = 0; i < count; ++i) {
    uint16_t v = bytes_per_sample == 2 ? static_cast<uint16_t>((raw[2 * i] << 8) | raw[2 * i + 1])
                                       : static_cast<uint16_t>(raw[i]);
    if (v > img.maxval) fail(path, "sample value above maxval");
    img.data[i] = v;
  }
  return img;
}

void write_pgm16(const std::string& path, int width, int height, const std::vector<uint16_t>& samples) {
  if (samples.size() != static_cast<size_t>(width) * height) {
    throw std::runtime_error("write_pgm16: sample count does not match the size");
  }
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << "P5\n" << width << " " << height << "\n65535\n";
  std::vector<unsigned char> raw(samples.size() * 2);
  for (size_t i = 0; i < samples.size(); ++i) {
    raw[2 * i] = static_cast<unsigned char>(samples[i] >> 8);
    raw[2 * i + 1] = static_cast<unsigned char>(samples[i] & 0xff);
  }
  out.write(reinterpret_cast<const char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace s2rdepth_example
