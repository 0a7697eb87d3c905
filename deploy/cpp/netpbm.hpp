// Minimal reader/writer for binary Netpbm images (PGM "P5", PPM "P6"), so the example needs no
// image library. 8-bit (maxval <= 255) and 16-bit (maxval <= 65535, big-endian samples as the
// Netpbm specification requires) files are supported; comments ("# ...") in the header are skipped.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace s2rdepth_example {

struct NetpbmImage {
  int width = 0;
  int height = 0;
  int channels = 0;             // 1 (PGM) or 3 (PPM), interleaved row-major H x W x C
  int maxval = 0;               // 1..65535
  std::vector<uint16_t> data;   // raw sample values in [0, maxval]
};

// Reads a binary PGM/PPM file. Throws std::runtime_error naming the file on any problem
// (missing, not P5/P6, bad header, zero size, truncated data).
NetpbmImage read_netpbm(const std::string& path);

// Writes a 16-bit binary PGM (maxval 65535) of width x height samples (row-major).
void write_pgm16(const std::string& path, int width, int height, const std::vector<uint16_t>& samples);

}  // namespace s2rdepth_example
